/**
 * The adapter's Prometheus series (on the service's own registry, see shared/ops): cycles by outcome,
 * refusals by guardrail reason, durations, and the last cycle's key figures per pipeline, so a
 * dashboard shows both "is it adapting" and "how far has it moved".
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CycleResult } from '../../shared/adaptation/cycle.js';

export interface AdapterMetrics {
  cycleStarted(pipeline: string): void;
  /** Records a finished cycle (published, refused, dry run or duplicate) and its wall time. */
  cycleFinished(pipeline: string, result: CycleResult, seconds: number): void;
  /** The pipeline's job scheduler was (re)asserted. */
  schedulerUpserted(pipeline: string): void;
  /** A cycle delayed because another one holds the pipeline's lock. */
  cycleDelayedBusy(pipeline: string): void;
  /** A cycle that threw (it is retried by BullMQ unless the error is not retriable). */
  cycleFailed(pipeline: string, code: string, seconds: number): void;
}

export function createAdapterMetrics(registry: Registry): AdapterMetrics {
  const cycles = new Counter({
    name: 'smae_adapter_cycles_total',
    help: 'Adaptation cycles by outcome (published, refused, dry-run, duplicate, delayed-busy, failed).',
    labelNames: ['pipeline', 'outcome'],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'smae_adapter_refusals_total',
    help: 'Refused adaptations by guardrail reason (a cycle may count under several reasons).',
    labelNames: ['pipeline', 'reason'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'smae_adapter_failures_total',
    help: 'Adaptation cycles that threw, by error code.',
    labelNames: ['pipeline', 'code'],
    registers: [registry],
  });
  const running = new Gauge({
    name: 'smae_adapter_cycle_running',
    help: '1 while a cycle of the pipeline runs in this process.',
    labelNames: ['pipeline'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'smae_adapter_cycle_duration_seconds',
    help: 'Wall time of adaptation cycles (lock to publish), by outcome.',
    labelNames: ['pipeline', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const compute = new Histogram({
    name: 'smae_adapter_compute_duration_seconds',
    help: 'Wall time of the tensor work of a cycle (scoring, gradient steps, checks), in the compute thread.',
    labelNames: ['pipeline'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const figure = new Gauge({
    name: 'smae_adapter_last_figure',
    help: 'Figures of the last computed cycle: threshold, threshold_drift, weight_step, weight_drift, golden_recall, flagged_share, support_rows.',
    labelNames: ['pipeline', 'figure'],
    registers: [registry],
  });
  const upserts = new Counter({
    name: 'smae_adapter_scheduler_upserts_total',
    help: 'Job scheduler upserts (at start and whenever the Redis connection comes back).',
    labelNames: ['pipeline'],
    registers: [registry],
  });
  const lastPublished = new Gauge({
    name: 'smae_adapter_last_published_timestamp_seconds',
    help: 'When this process last published an adapted version.',
    labelNames: ['pipeline'],
    registers: [registry],
  });

  return {
    cycleStarted(pipeline) {
      running.set({ pipeline }, 1);
    },
    cycleFinished(pipeline, result, seconds) {
      running.set({ pipeline }, 0);
      const outcome = result.duplicate ? 'duplicate' : result.status;
      cycles.inc({ pipeline, outcome });
      duration.observe({ pipeline, outcome }, seconds);
      if (result.duplicate) return;
      if (result.status === 'refused')
        for (const reason of result.reasons) refusals.inc({ pipeline, reason });
      if (result.status === 'published') lastPublished.set({ pipeline }, Date.now() / 1000);
      const f = result.figures;
      if (f) {
        compute.observe({ pipeline }, f.computeMs / 1000);
        const set = (name: string, v: number | null): void => {
          if (v !== null && Number.isFinite(v)) figure.set({ pipeline, figure: name }, v);
        };
        set('threshold', f.thresholdAfter ?? f.thresholdBefore);
        set('threshold_drift', f.thresholdDrift);
        set('weight_step', f.weightStep);
        set('weight_drift', f.weightDrift);
        set('golden_recall', f.goldenRecall);
        set('flagged_share', f.flaggedShare);
        set('support_rows', f.supportRows);
      }
    },
    schedulerUpserted(pipeline) {
      upserts.inc({ pipeline });
    },
    cycleDelayedBusy(pipeline) {
      running.set({ pipeline }, 0);
      cycles.inc({ pipeline, outcome: 'delayed-busy' });
    },
    cycleFailed(pipeline, code, seconds) {
      running.set({ pipeline }, 0);
      cycles.inc({ pipeline, outcome: 'failed' });
      failures.inc({ pipeline, code });
      duration.observe({ pipeline, outcome: 'failed' }, seconds);
    },
  };
}
