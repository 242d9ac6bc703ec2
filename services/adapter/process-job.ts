/**
 * One adaptation job, as a plain function of its dependencies: run the cycle (`shared/adaptation`) for
 * the job's pipeline, count it, and tell BullMQ what to do next: a busy pipeline delays the job without
 * spending an attempt, a retriable failure is retried with backoff, anything else fails for good.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { ComputeFn } from '../../shared/adaptation/compute.js';
import { resolveAdaptationOptions } from '../../shared/adaptation/config.js';
import { isLockBusy, runAdaptationCycle, type CycleResult } from '../../shared/adaptation/cycle.js';
import { cycleDependencies, type AdaptJobData } from '../../shared/adaptation/jobs.js';
import { describeError, isSmaeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { AdapterDeps } from './app.js';
import type { AdapterConfig } from './config.js';
import type { AdapterMetrics } from './metrics.js';

export interface JobContext {
  config: AdapterConfig;
  deps: Pick<AdapterDeps, 'redis' | 'afterPublish'>;
  compute: ComputeFn;
  metrics: AdapterMetrics;
  log: Logger;
}

export async function processAdaptJob(
  ctx: JobContext,
  job: Job<AdaptJobData, CycleResult>,
  token?: string,
): Promise<CycleResult> {
  const { config, deps, compute, metrics, log } = ctx;
  const pipeline = job.data.pipeline;
  const cycleId = job.id!;
  const jlog = log.child({ pipeline, cycleId, attempt: job.attemptsMade + 1 });
  const t0 = performance.now();
  metrics.cycleStarted(pipeline);
  try {
    const options = resolveAdaptationOptions(job.data.overrides ?? {}, config.adaptation);
    const cycle = cycleDependencies({
      redis: deps.redis,
      pipeline,
      logger: jlog,
      compute,
      lockTtlMs: config.pipelineLockTtlMs,
      historyLimit: config.historyLimit,
    });
    const { registry } = cycle;
    const result = await runAdaptationCycle(
      {
        ...cycle,
        registry: deps.afterPublish
          ? {
              current: () => registry.current(),
              get: (v) => registry.get(v),
              list: () => registry.list(),
              publish: async (a, meta) => {
                const r = await registry.publish(a, meta);
                await deps.afterPublish!(pipeline, r.version, cycleId);
                return r;
              },
            }
          : registry,
      },
      { cycleId, options, ...(job.data.dryRun ? { dryRun: true } : {}) },
    );
    metrics.cycleFinished(pipeline, result, (performance.now() - t0) / 1000);
    return result;
  } catch (err) {
    if (isLockBusy(err) && token !== undefined) {
      // Another cycle of this pipeline runs (here or elsewhere): wait for it without spending an
      // attempt. A holder that died frees the lock when its TTL lapses.
      metrics.cycleDelayedBusy(pipeline);
      jlog.info({ retryInMs: config.jobs.backoffMs }, 'pipeline busy with another adaptation; cycle delayed');
      await job.moveToDelayed(Date.now() + config.jobs.backoffMs, token);
      throw new DelayedError();
    }
    const code = isSmaeError(err) ? err.code : 'UNEXPECTED';
    metrics.cycleFailed(pipeline, code, (performance.now() - t0) / 1000);
    if (isSmaeError(err) && err.retriable) {
      jlog.warn({ err: describeError(err) }, 'adaptation cycle failed; BullMQ retries it with backoff');
      throw err;
    }
    jlog.error({ err: describeError(err) }, 'adaptation cycle failed for good');
    throw new UnrecoverableError(describeError(err));
  }
}
