/**
 * The adapter service, built from its dependencies (main.ts runs it, tests build it directly).
 *
 * Per pipeline: one BullMQ queue (`<queuePrefix>:adapter`), one job scheduler (`adapt:<pipeline>`,
 * every N ms or a cron pattern, upserted at start and again whenever Redis comes back, so a Redis
 * that lost its data gets its scheduler back and one that kept it still has exactly one), and one
 * Worker with concurrency 1 whose processor runs `runAdaptationCycle`:
 * - the cycle id is the BullMQ job id: one per scheduler tick (`repeat:adapt:<pipeline>:<ms>`) or per
 *   manual trigger, so two adapter processes can never both run one cycle, and a retried or stalled
 *   job finds its earlier outcome (cycle ledger, registry tag) instead of publishing again;
 * - a Redis lock per pipeline keeps a manual and a scheduled cycle (or two deployments) from
 *   adapting one pipeline at once; a cycle that finds it busy is delayed without spending an attempt
 *   (a dead holder's lock lapses after its TTL);
 * - the tensor work runs in a worker thread, so the event loop stays free to renew the job lock; the
 *   thread is warmed in `start()`, before the adapter reports ready;
 * - refusals are results, not failures; retriable errors are retried with exponential backoff;
 *   any other error fails the job at once (UnrecoverableError).
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { AdaptationOverrides } from '../../shared/adaptation/config.js';
import type { ComputeFn, ComputeInput, ComputeResult } from '../../shared/adaptation/compute.js';
import { createComputeRunner } from '../../shared/adaptation/compute-runner.js';
import type { CycleResult } from '../../shared/adaptation/cycle.js';
import {
  ADAPT_JOB,
  ADAPTER_QUEUE,
  enqueueCycle,
  jobOptions,
  queueOptions,
  type AdaptJobData,
} from '../../shared/adaptation/jobs.js';
import { describeError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { createMetricsRegistry, type ProbeResult } from '../../shared/ops/index.js';
import type { ThreadRunner } from '../../shared/ops/worker.js';
import type { AdapterConfig } from './config.js';
import { createAdapterMetrics, type AdapterMetrics } from './metrics.js';
import { processAdaptJob, type JobContext } from './process-job.js';

export { ADAPT_JOB, ADAPTER_QUEUE, queueOptions, type AdaptJobData } from '../../shared/adaptation/jobs.js';

export interface AdapterDeps {
  /** Commands: registry, window, state, pipeline lock. */
  redis: Redis;
  /** BullMQ's connection (created with `maxRetriesPerRequest: null`); the Worker duplicates it. */
  bullmq: Redis;
  logger?: Logger;
  metricsRegistry?: Registry;
  /** Replaces the worker-thread compute (tests). */
  compute?: ComputeFn;
  /** Called right after a version is published, before the cycle is recorded (fault-injection tests). */
  afterPublish?: (pipeline: string, version: number, cycleId: string) => void | Promise<void>;
}

export interface Adapter {
  readonly metricsRegistry: Registry;
  /** Upserts the schedulers (if this process manages them) and starts the workers. */
  start(): Promise<void>;
  /** Queues one cycle now; resolves with the job (its id is the cycle id). */
  trigger(
    pipeline: string,
    opts?: { cycleId?: string; overrides?: AdaptationOverrides; dryRun?: boolean; requestedBy?: string },
  ): Promise<Job<AdaptJobData, CycleResult>>;
  queue(pipeline: string): Queue<AdaptJobData, CycleResult>;
  /** (Re)creates the pipelines' schedulers; idempotent. */
  upsertSchedulers(): Promise<void>;
  health(): ProbeResult;
  ready(): Promise<ProbeResult>;
  /** Stops taking jobs, waits for running cycles, closes queues and the compute thread (not the Redis clients). */
  close(): Promise<void>;
}

export function schedulerId(pipeline: string): string {
  return `adapt:${pipeline}`;
}

export function buildAdapter(config: AdapterConfig, deps: AdapterDeps): Adapter {
  const log = (deps.logger ?? silentLogger).child({ component: 'adapter' });
  const metricsRegistry = deps.metricsRegistry ?? createMetricsRegistry({ service: 'adapter' });
  const metrics: AdapterMetrics = createAdapterMetrics(metricsRegistry);
  const computing = computeFor(config, deps, log);
  const compute = computing.compute;

  const queues = new Map<string, Queue<AdaptJobData, CycleResult>>();
  const workers = new Map<string, Worker<AdaptJobData, CycleResult>>();
  for (const p of config.pipelines) {
    queues.set(
      p,
      new Queue<AdaptJobData, CycleResult>(ADAPTER_QUEUE, { connection: deps.bullmq, ...queueOptions(p) }),
    );
  }
  let started = false;
  /** start() has finished: the compute thread is warm and the workers take jobs. */
  let running = false;
  let closing = false;

  const jobOpts = jobOptions(config.jobs);

  const jobContext: JobContext = { config, deps, compute, metrics, log };
  const processJob = (job: Job<AdaptJobData, CycleResult>, token?: string): Promise<CycleResult> =>
    processAdaptJob(jobContext, job, token);

  async function upsertSchedulers(): Promise<void> {
    if (!config.manageSchedulers) return;
    for (const [pipeline, queue] of queues) {
      const repeat = 'every' in config.schedule ? { every: config.schedule.every } : { ...config.schedule };
      await queue.upsertJobScheduler(schedulerId(pipeline), repeat, {
        name: ADAPT_JOB,
        data: { pipeline, requestedBy: 'scheduler' },
        opts: jobOpts,
      });
      metrics.schedulerUpserted(pipeline);
      log.info({ pipeline, schedule: config.schedule }, 'adaptation scheduler in place');
    }
  }

  // A Redis that restarted may have lost its data (no persistence): put the schedulers back. Upsert is
  // idempotent, so a Redis that kept them still has exactly one per pipeline. The first 'ready' is the
  // initial connection (start() upserts then); every later one is a reconnection.
  let readyEvents = deps.redis.status === 'ready' ? 1 : 0;
  const onReady = (): void => {
    readyEvents++;
    if (readyEvents === 1 || !started || closing) return;
    log.info('redis connection back; re-asserting adaptation schedulers');
    upsertSchedulers().catch((err: unknown) =>
      log.warn({ err: describeError(err) }, 'could not re-assert schedulers'),
    );
  };
  deps.redis.on('ready', onReady);

  return {
    metricsRegistry,
    async start() {
      if (started) return;
      started = true;
      // The compute thread loads its modules and TensorFlow.js now, not during the first cycle, where
      // seconds of CPU would compete with the scorer right as records start to flow.
      await computing.warm();
      await upsertSchedulers();
      for (const p of config.pipelines) workers.set(p, startWorker(p, processJob, config, deps, log));
      running = true;
      log.info({ pipelines: config.pipelines, compute: config.compute }, 'adapter started');
    },
    async trigger(pipeline, opts = {}) {
      const queue = queues.get(pipeline);
      if (!queue) throw new Error(`pipeline "${pipeline}" is not served by this adapter`);
      const cycleId = opts.cycleId ?? `manual-${randomUUID()}`;
      return enqueueCycle(
        queue,
        {
          pipeline,
          requestedBy: opts.requestedBy ?? 'api',
          ...(opts.overrides ? { overrides: opts.overrides } : {}),
          ...(opts.dryRun ? { dryRun: true } : {}),
        },
        cycleId,
        config.jobs,
      );
    },
    queue(pipeline) {
      const q = queues.get(pipeline);
      if (!q) throw new Error(`pipeline "${pipeline}" is not served by this adapter`);
      return q;
    },
    upsertSchedulers,
    health() {
      const stopped = [...workers.entries()].filter(([, w]) => !w.isRunning() && !closing).map(([p]) => p);
      return stopped.length === 0 ? { ok: true } : { ok: false, detail: { stoppedWorkers: stopped } };
    },
    async ready() {
      try {
        await deps.redis.ping();
      } catch (err) {
        return { ok: false, detail: { redis: describeError(err) } };
      }
      return running && !closing
        ? { ok: true, detail: { pipelines: config.pipelines } }
        : { ok: false, detail: { started, running, closing } };
    },
    async close() {
      if (closing) return;
      closing = true;
      deps.redis.off('ready', onReady);
      await Promise.all([...workers.values()].map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await computing.close();
      log.info('adapter stopped');
    },
  };
}

/**
 * Where cycles compute: `deps.compute` when given (tests), else a worker thread (`compute: 'thread'`,
 * started on first use or by `warm()`) or this thread.
 */
function computeFor(
  config: AdapterConfig,
  deps: AdapterDeps,
  log: Logger,
): { compute: ComputeFn; warm(): Promise<void>; close(): Promise<void> } {
  let thread: ThreadRunner<ComputeInput, ComputeResult> | null = null;
  const computeThread = (): ThreadRunner<ComputeInput, ComputeResult> =>
    (thread ??= createComputeRunner({ backend: config.backend, logger: log }));
  const usesThread = !deps.compute && config.compute === 'thread';
  const compute: ComputeFn =
    deps.compute ??
    (usesThread
      ? (input) => computeThread().run(input)
      : async (input) => {
          const { computeAdaptation } = await import('../../shared/adaptation/compute.js');
          const { initBackend } = await import('../../shared/model/index.js');
          await initBackend({ prefer: config.backend });
          return computeAdaptation(input);
        });
  return {
    compute,
    // The thread loads its modules and TensorFlow.js at start, not during the first cycle, where
    // seconds of CPU would compete with the scorer right as records start to flow.
    warm: async () => {
      if (usesThread) await computeThread().warm();
    },
    close: async () => {
      await thread?.close();
    },
  };
}

/** The BullMQ worker of one pipeline's queue: one cycle at a time, failures and stalls logged. */
function startWorker(
  pipeline: string,
  processJob: (job: Job<AdaptJobData, CycleResult>, token?: string) => Promise<CycleResult>,
  config: AdapterConfig,
  deps: AdapterDeps,
  log: Logger,
): Worker<AdaptJobData, CycleResult> {
  const worker = new Worker<AdaptJobData, CycleResult>(ADAPTER_QUEUE, processJob, {
    connection: deps.bullmq,
    ...queueOptions(pipeline),
    concurrency: 1,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: 1,
    name: `adapter-${process.pid}`,
  });
  worker.on('failed', (job, err) => {
    log.warn(
      { pipeline, cycleId: job?.id, attempts: job?.attemptsMade, err: err.message },
      'adaptation job failed',
    );
  });
  worker.on('stalled', (jobId) =>
    log.warn({ pipeline, cycleId: jobId }, 'adaptation job stalled; it will be retried'),
  );
  worker.on('error', (err) => log.warn({ pipeline, err: err.message }, 'adaptation worker error'));
  return worker;
}
