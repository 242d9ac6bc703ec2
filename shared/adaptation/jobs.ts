/**
 * An adaptation cycle as a BullMQ job, defined once for whoever queues or runs it: the adapter service
 * (its schedulers and workers) and `smae adapt` (an operator's cycle now, queued or run here).
 *
 * - the queue and job names, the job's data and its per-pipeline key prefix;
 * - the retry policy (attempts with exponential backoff, finished jobs kept for inspection);
 * - `cycleDependencies`: the registry, window, state and pipeline lock a cycle runs against.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { pipelineNames } from '../pipeline.js';
import { RedisLock } from '../redis/lock.js';
import { ModelRegistry } from '../registry/index.js';
import type { ComputeFn } from './compute.js';
import type { AdaptationOverrides } from './config.js';
import type { CycleDeps, CycleResult } from './cycle.js';
import { adapterKeys, RedisAdapterState } from './state.js';
import { readWindow } from './window.js';

export const ADAPTER_QUEUE = 'adapter';
export const ADAPT_JOB = 'adapt';

export interface AdaptJobData {
  pipeline: string;
  /** Per-job option overrides (e.g. `smae adapt --policy report`). */
  overrides?: AdaptationOverrides;
  dryRun?: boolean;
  /** Who asked: `scheduler`, `cli`, … (logged). */
  requestedBy?: string;
}

export type AdaptQueue = Queue<AdaptJobData, CycleResult>;

/** BullMQ's key prefix for a pipeline's queue (every queue and worker of it must use the same). */
export function queueOptions(pipeline: string): { prefix: string } {
  return { prefix: pipelineNames(pipeline).queuePrefix };
}

export interface JobPolicy {
  attempts: number;
  backoffMs: number;
  /** Finished jobs kept (completed and failed each). */
  keep: number;
}

export const DEFAULT_JOB_POLICY: JobPolicy = { attempts: 5, backoffMs: 10_000, keep: 200 };

/** BullMQ job options for a policy. */
export function jobOptions(policy: JobPolicy = DEFAULT_JOB_POLICY) {
  return {
    attempts: policy.attempts,
    backoff: { type: 'exponential' as const, delay: policy.backoffMs },
    removeOnComplete: { count: policy.keep },
    removeOnFail: { count: policy.keep },
  };
}

/** Queues one cycle; its job id is the cycle id, so queuing the same cycle twice runs it once. */
export function enqueueCycle(
  queue: AdaptQueue,
  data: AdaptJobData,
  cycleId: string,
  policy: JobPolicy = DEFAULT_JOB_POLICY,
) {
  return queue.add(ADAPT_JOB, data, { ...jobOptions(policy), jobId: cycleId });
}

/** What a cycle of `pipeline` runs against, except the tensor work (`compute`). */
export function cycleDependencies(opts: {
  redis: Redis;
  pipeline: string;
  logger: Logger;
  compute?: ComputeFn;
  lockTtlMs?: number;
  historyLimit?: number;
}): CycleDeps & { registry: ModelRegistry } {
  const { redis, pipeline, logger } = opts;
  return {
    pipeline,
    registry: new ModelRegistry({
      redis,
      pipeline,
      logger,
      ...(opts.historyLimit !== undefined ? { historyLimit: opts.historyLimit } : {}),
    }),
    readWindow: (count) => readWindow(redis, pipeline, count),
    state: new RedisAdapterState(redis, pipeline),
    lock: new RedisLock(redis, adapterKeys(pipeline).lock, {
      ...(opts.lockTtlMs !== undefined ? { ttlMs: opts.lockTtlMs } : {}),
    }),
    ...(opts.compute ? { compute: opts.compute } : {}),
    logger,
  };
}
