/** The trainer service's Prometheus metrics (registered on the service's own registry). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type TrainerMetrics = ReturnType<typeof createTrainerMetrics>;

export function createTrainerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    runs: new Counter({
      name: 'smae_trainer_runs_total',
      help: 'Training runs by outcome (published, failed, skipped: another replica held the lease, aborted)',
      labelNames: ['outcome'],
      registers,
    }),
    running: new Gauge({
      name: 'smae_trainer_running',
      help: '1 while a training run is in progress',
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'smae_trainer_last_success_timestamp_seconds',
      help: 'When the last successful run published its model',
      registers,
    }),
    seconds: new Histogram({
      name: 'smae_trainer_run_seconds',
      help: 'Duration of successful runs (load, train, publish)',
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
      registers,
    }),
    rows: new Gauge({
      name: 'smae_trainer_last_rows',
      help: 'Training rows of the last published model',
      registers,
    }),
    loss: new Gauge({
      name: 'smae_trainer_last_final_loss',
      help: 'Final training loss of the last published model',
      registers,
    }),
    version: new Gauge({
      name: 'smae_trainer_published_version',
      help: 'Registry version of the last published model',
      registers,
    }),
    epoch: new Gauge({
      name: 'smae_trainer_epoch',
      help: 'Epoch of the run in progress',
      registers,
    }),
  };
}
