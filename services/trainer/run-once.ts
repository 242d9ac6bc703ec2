/**
 * One training run of the trainer service: take the pipeline's trainer lease (skip the run if another
 * replica holds it; abort it if the lease is lost), train off the event loop, publish, and report.
 */
import type { Redis } from 'ioredis';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { RedisLock } from '../../shared/redis/lock.js';
import type { ModelRegistry } from '../../shared/registry/index.js';
import { runTraining, type TrainingOutcome, type TrainingSource } from '../../shared/training/index.js';
import type { RunReport, RunTrigger, TrainerServiceConfig, TrainerStatus } from './app.js';
import type { TrainerMetrics } from './metrics.js';

/** The run in progress, as the service's status and shutdown see it. */
export interface LiveRun {
  abort: AbortController | null;
  epoch: TrainerStatus['epoch'];
}

export interface RunContext {
  config: TrainerServiceConfig;
  redis: Redis;
  registry: ModelRegistry;
  lockKey: string;
  source(): TrainingSource;
  metrics: TrainerMetrics;
  /** The service's logger (child of `logger`). */
  log: Logger;
  logger: Logger;
  inProcess: boolean;
  run: LiveRun;
}

export async function trainOnce(ctx: RunContext, trigger: RunTrigger): Promise<RunReport> {
  const { config, log, metrics: m, run } = ctx;
  const startedAt = new Date().toISOString();
  const finish = (r: Omit<RunReport, 'trigger' | 'startedAt' | 'finishedAt'>): RunReport => ({
    trigger,
    startedAt,
    finishedAt: new Date().toISOString(),
    ...r,
  });
  // A lost lease (a long pause, Redis failover) aborts the run: another replica may be training.
  const lease = await new RedisLock(ctx.redis, ctx.lockKey, {
    ttlMs: config.lockTtlMs,
    onLost: () => {
      log.warn({ trigger }, 'the trainer lease was lost; aborting this run');
      run.abort?.abort(new Error('trainer lease lost'));
    },
  }).tryAcquire();
  if (!lease) {
    log.info({ trigger }, 'another trainer replica holds the lease; skipping this run');
    return finish({ outcome: 'skipped' });
  }
  const abort = new AbortController();
  run.abort = abort;
  m.running.set(1);
  try {
    log.info({ trigger, source: config.source }, 'training run started');
    const outcome: TrainingOutcome = await runTraining({
      ...config.training,
      source: ctx.source(),
      pipeline: config.pipeline,
      registry: ctx.registry,
      publishedBy: 'trainer',
      reason: `scheduled retraining (${trigger})`,
      signal: abort.signal,
      logger: ctx.logger,
      ...(ctx.inProcess ? { inProcess: true } : {}),
      onEpoch: (p) => {
        run.epoch = { epoch: p.epoch, epochs: p.epochs, loss: p.loss };
        m.epoch.set(p.epoch);
        log.info({ epoch: p.epoch, epochs: p.epochs, loss: p.loss, seconds: p.seconds }, 'epoch');
      },
    });
    const man = outcome.artifact.manifest;
    m.lastSuccess.set(Date.now() / 1000);
    m.seconds.observe(outcome.seconds);
    m.rows.set(outcome.rows);
    m.loss.set(man.training.finalLoss);
    if (outcome.published) m.version.set(outcome.published.version);
    return finish({
      outcome: 'published',
      ...(outcome.published ? { version: outcome.published.version } : {}),
      rows: outcome.rows,
      finalLoss: man.training.finalLoss,
      threshold: man.threshold.value,
      seconds: outcome.seconds,
    });
  } catch (err) {
    if (abort.signal.aborted) return finish({ outcome: 'aborted', error: describeError(err) });
    log.error({ err: describeError(err), trigger }, 'training run failed');
    return finish({ outcome: 'failed', error: describeError(err) });
  } finally {
    run.abort = null;
    run.epoch = null;
    m.running.set(0);
    m.epoch.set(0);
    await lease.release();
  }
}
