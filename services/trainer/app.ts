/**
 * The trainer service, built from its dependencies (`buildTrainer(config, deps)`); `main.ts` reads the
 * environment, creates the clients and runs it.
 *
 * It retrains on a schedule: on start (optionally) and every `intervalMs` after the previous run ended,
 * from a CSV file or the last N records of the pipeline's topic, with the same core as `smae train`
 * (`shared/training`): training runs in a worker thread, so this process keeps answering `/healthz`,
 * `/readyz` and `/metrics` throughout. A failed run is retried after `retryMs` (shorter than the
 * schedule), never in a tight loop. Replicas of one pipeline share a Redis lease: a run that finds it
 * taken is skipped, since another replica is training the same model.
 *
 * `stop()` is the graceful shutdown: no new runs; a training in progress is aborted (its worker
 * terminated — nothing is published, the registry is untouched); a publish in progress completes (it is
 * one atomic script); then the lease is released and the ops server closed.
 */
import type { KafkaPort } from '../../shared/kafka/port.js';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createTrainerMetrics } from './metrics.js';
import { trainOnce, type LiveRun, type RunContext } from './run-once.js';
import { TrainingRuns } from './runs.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { pipelineNames } from '../../shared/pipeline.js';
import { createMetricsRegistry, startOpsServer, type OpsServer } from '../../shared/ops/index.js';
import type { RecordDecoder } from '../../shared/avro/decoder.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import type { ColumnFilter, TrainJobOptions, TrainingSource } from '../../shared/training/index.js';

export type TrainerSourceConfig =
  { kind: 'csv'; path: string } | { kind: 'topic'; topic: string; last: number };

export interface TrainerServiceConfig {
  pipeline: string;
  source: TrainerSourceConfig;
  training: TrainJobOptions & ColumnFilter;
  /** Time between the end of one run and the start of the next; 0 = no schedule (start-up run only). */
  intervalMs: number;
  /** Train as soon as the service starts. */
  runOnStart: boolean;
  /** After a failed run, try again this much later (capped by `intervalMs` when that is shorter). */
  retryMs: number;
  /** Lease time-to-live; renewed while a run lasts. */
  lockTtlMs: number;
  /** Give up a Kafka read after this long. */
  readTimeoutMs: number;
  historyLimit?: number;
  /** The /healthz, /readyz, /metrics server; null = none (tests). */
  ops: { port: number; host?: string } | null;
}

export const TRAINER_DEFAULTS = {
  intervalMs: 6 * 3600_000,
  retryMs: 60_000,
  lockTtlMs: 60_000,
  readTimeoutMs: 120_000,
  port: 9466,
} as const;

export interface TrainerDeps {
  redis: Redis;
  /** Required for a topic source. */
  kafka?: KafkaPort;
  decoder?: RecordDecoder;
  logger?: Logger;
  metrics?: Registry;
  /** Train on the service's own thread (tests only: it blocks the event loop). */
  inProcess?: boolean;
}

export type RunTrigger = 'start' | 'schedule' | 'retry' | 'manual';

export interface RunReport {
  trigger: RunTrigger;
  startedAt: string;
  finishedAt: string;
  outcome: 'published' | 'failed' | 'skipped' | 'aborted';
  version?: number;
  rows?: number;
  finalLoss?: number;
  threshold?: number;
  seconds?: number;
  error?: string;
}

export interface TrainerStatus {
  pipeline: string;
  running: boolean;
  stopping: boolean;
  /** The epoch of the run in progress, if any. */
  epoch: { epoch: number; epochs: number; loss: number } | null;
  runs: number;
  lastRun: RunReport | null;
  lastSuccess: RunReport | null;
  nextRunAt: string | null;
}

export interface TrainerApp {
  readonly registry: ModelRegistry;
  readonly metrics: Registry;
  /** The ops server's URL, when it runs. */
  readonly url: string | null;
  start(): Promise<void>;
  /** Runs one training now (unless one is running: then resolves with that run's report). */
  runNow(trigger?: RunTrigger): Promise<RunReport>;
  status(): TrainerStatus;
  stop(): Promise<void>;
}

export function buildTrainer(config: TrainerServiceConfig, deps: TrainerDeps): TrainerApp {
  const names = pipelineNames(config.pipeline);
  const log = (deps.logger ?? silentLogger).child({ component: 'trainer-service', pipeline: names.name });
  const registry = new ModelRegistry({
    redis: deps.redis,
    pipeline: names.name,
    logger: deps.logger ?? silentLogger,
    ...(config.historyLimit !== undefined ? { historyLimit: config.historyLimit } : {}),
  });
  if (config.source.kind === 'topic' && (!deps.kafka || !deps.decoder)) {
    throw new TypeError('buildTrainer: a topic source needs deps.kafka and deps.decoder');
  }
  const metrics = deps.metrics ?? createMetricsRegistry({ service: 'trainer', pipeline: names.name });
  const m = createTrainerMetrics(metrics);

  const live: LiveRun = { abort: null, epoch: null };
  const runContext: RunContext = {
    config,
    redis: deps.redis,
    registry,
    lockKey: `${names.redisPrefix}trainer:lock`,
    source: () => trainingSource(config, deps, names.groups.trainer),
    metrics: m,
    log,
    logger: deps.logger ?? silentLogger,
    inProcess: deps.inProcess === true,
    run: live,
  };
  const runs = new TrainingRuns(
    (trigger) => trainOnce(runContext, trigger),
    config,
    (report) => {
      m.runs.inc({ outcome: report.outcome });
      if (report.outcome === 'published') log.info(report, 'training run finished');
    },
  );
  let ops: OpsServer | null = null;

  const app: TrainerApp = {
    registry,
    metrics,
    get url() {
      return ops?.url ?? null;
    },
    async start() {
      if (config.ops) {
        ops = await startOpsServer({
          registry: metrics,
          port: config.ops.port,
          ...(config.ops.host !== undefined ? { host: config.ops.host } : {}),
          logger: deps.logger ?? silentLogger,
          // Liveness: answering at all is the proof (training is in a worker); the body says what it does.
          health: () => ({ ok: true, detail: { ...app.status() } }),
          ready: async () => {
            if (runs.isStopping) return { ok: false, detail: { reason: 'stopping' } };
            try {
              await deps.redis.ping();
              return { ok: true, detail: { running: runs.running } };
            } catch (err) {
              return { ok: false, detail: { reason: `redis: ${(err as Error).message}` } };
            }
          },
        });
      }
      log.info(
        {
          source: config.source,
          intervalMs: config.intervalMs,
          runOnStart: config.runOnStart,
          url: ops?.url,
        },
        'trainer service started',
      );
      if (config.runOnStart) void runs.runNow('start');
      else runs.schedule(config.intervalMs, 'schedule');
    },
    runNow: (trigger) => runs.runNow(trigger),
    status: () => ({ pipeline: names.name, stopping: runs.isStopping, epoch: live.epoch, ...runs.status() }),
    async stop() {
      await runs.stop(() => {
        if (!live.abort) return;
        log.info('aborting the training in progress');
        live.abort.abort(new Error('trainer service stopping'));
      });
      await ops?.close();
      ops = null;
      log.info('trainer service stopped');
    },
  };
  return app;
}

/** Where a run reads its rows: the configured CSV file, or the last N records of the topic. */
function trainingSource(config: TrainerServiceConfig, deps: TrainerDeps, group: string): TrainingSource {
  if (config.source.kind === 'csv') return config.source;
  return {
    kind: 'topic',
    topic: config.source.topic,
    last: config.source.last,
    kafka: deps.kafka!,
    decoder: deps.decoder!,
    groupPrefix: `${group}.replay`,
    timeoutMs: config.readTimeoutMs,
  };
}
