/**
 * The trainer core shared by `smae train` and the trainer service: load rows (a CSV file, or the last
 * N records of a Kafka topic), train a detector off the event loop (a worker thread), then publish it
 * to the registry with its training statistics and/or save it as an artifact directory.
 *
 * The statistics travel in the manifest (`training`: rows, epochs, batch size, final loss, loss per
 * epoch, wall time, seed, source; `threshold`: value and fitted policy; `backend`), so `smae models list`
 * shows them for every version and the digest covers them.
 */
import { SmaeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { saveArtifact, type ModelArtifact } from '../model/artifact.js';
import type { EpochProgress } from '../model/autoencoder.js';
import type { BackendName } from '../model/backend.js';
import type { RecordDecoder } from '../avro/decoder.js';
import type { KafkaPort } from '../kafka/port.js';
import type { ModelRegistry, PublishResult } from '../registry/index.js';
import { runTrainJob, type TrainJob, type TrainJobOptions } from './job.js';
import { rowsFromCsv, rowsFromRecords, type ColumnFilter, type TrainingData } from './rows.js';
import { trainInWorker } from './run-worker.js';
import { readLastRecords } from './topic-source.js';
import { describeThreshold } from '../threshold/manifest.js';

export type TrainingSource =
  | { kind: 'csv'; path: string }
  | {
      kind: 'topic';
      topic: string;
      /** Records to read in total, across partitions. */
      last: number;
      kafka: KafkaPort;
      decoder: RecordDecoder;
      /** Prefix of the throwaway consumer group. */
      groupPrefix?: string;
      timeoutMs?: number;
    };

export interface RunTrainingOptions extends TrainJobOptions, ColumnFilter {
  source: TrainingSource;
  pipeline: string;
  /** Publish here (null: train only). */
  registry: ModelRegistry | null;
  /** Default `trainer`. */
  publishedBy?: string;
  /** Why this version exists; default says how many rows from where. */
  reason?: string;
  /** Optimistic concurrency for the publish (see `PublishMeta.expectedParent`). */
  expectedParent?: number | null;
  /** Also write the artifact directory here. */
  saveDir?: string;
  /** Train on this thread instead of a worker (tests, debugging). */
  inProcess?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  onLoaded?: (data: TrainingData) => void;
  onStarted?: (info: { backend: BackendName; rows: number; columns: number }) => void;
  onEpoch?: (p: EpochProgress) => void;
}

export interface TrainingOutcome {
  artifact: ModelArtifact;
  published: PublishResult | null;
  savedTo: string | null;
  rows: number;
  columns: string[];
  source: string;
  skipped: number;
  /** Loading, training and publishing, in seconds. */
  seconds: number;
}

/** Loads the training rows from either source (see `rows.ts` and `topic-source.ts`). */
export async function loadTrainingData(
  source: TrainingSource,
  filter: ColumnFilter,
  logger: Logger = silentLogger,
): Promise<TrainingData> {
  if (source.kind === 'csv') return rowsFromCsv(source.path, filter);
  const read = await readLastRecords({
    kafka: source.kafka,
    topic: source.topic,
    last: source.last,
    decoder: source.decoder,
    ...(source.groupPrefix !== undefined ? { groupPrefix: source.groupPrefix } : {}),
    ...(source.timeoutMs !== undefined ? { timeoutMs: source.timeoutMs } : {}),
    logger,
  });
  return rowsFromRecords(read.records, {
    ...filter,
    source: `kafka:${source.topic}[last ${read.records.length + read.skipped.length}]`,
    skipped: read.skipped.length,
    logger,
  });
}

export async function runTraining(opts: RunTrainingOptions): Promise<TrainingOutcome> {
  const log = (opts.logger ?? silentLogger).child({ component: 'trainer', pipeline: opts.pipeline });
  const started = performance.now();
  const filter: ColumnFilter = {
    ...(opts.labelColumn !== undefined ? { labelColumn: opts.labelColumn } : {}),
    ...(opts.exclude !== undefined ? { exclude: opts.exclude } : {}),
    ...(opts.columns !== undefined ? { columns: opts.columns } : {}),
  };
  const data = await loadTrainingData(opts.source, filter, log);
  if (data.rows.length < 2) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${data.source} has ${data.rows.length} usable row(s); training needs more`,
    );
  }
  opts.onLoaded?.(data);
  log.info(
    { rows: data.rows.length, columns: data.columns.length, skipped: data.skipped, source: data.source },
    'training data loaded',
  );
  opts.signal?.throwIfAborted();

  const job: TrainJob = {
    rows: data.rows,
    columns: data.columns,
    source: data.source,
    pipeline: opts.pipeline,
    ...pickJobOptions(opts),
  };
  let artifact: ModelArtifact;
  if (opts.inProcess) {
    artifact = await runTrainJob(job, (m) => {
      if (m.type === 'started') opts.onStarted?.({ backend: m.backend, rows: m.rows, columns: m.columns });
      else if (m.type === 'epoch') opts.onEpoch?.(m.progress);
    });
  } else {
    artifact = await trainInWorker(job, {
      ...(opts.onStarted ? { onStarted: opts.onStarted } : {}),
      ...(opts.onEpoch ? { onEpoch: opts.onEpoch } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      logger: log,
    });
  }
  const m = artifact.manifest;
  log.info(
    {
      rows: m.training.rows,
      epochs: m.training.epochs,
      finalLoss: m.training.finalLoss,
      threshold: m.threshold.value,
      thresholdPolicy: describeThreshold(m.threshold),
      wallSeconds: m.training.wallSeconds,
      backend: m.backend,
      seed: m.training.seed,
    },
    'model trained',
  );

  let published: PublishResult | null = null;
  if (opts.registry) {
    published = await opts.registry.publish(artifact, {
      publishedBy: opts.publishedBy ?? 'trainer',
      reason: opts.reason ?? `trained on ${data.rows.length} rows from ${data.source}`,
      ...(opts.expectedParent !== undefined ? { expectedParent: opts.expectedParent } : {}),
    });
    artifact = published.artifact;
  }
  let savedTo: string | null = null;
  if (opts.saveDir) {
    await saveArtifact(opts.saveDir, artifact);
    savedTo = opts.saveDir;
    log.info({ dir: savedTo }, 'model artifact saved');
  }
  return {
    artifact,
    published,
    savedTo,
    rows: data.rows.length,
    columns: data.columns,
    source: data.source,
    skipped: data.skipped,
    seconds: (performance.now() - started) / 1000,
  };
}

function pickJobOptions(o: TrainJobOptions): TrainJobOptions {
  const keys: (keyof TrainJobOptions)[] = [
    'backend',
    'spec',
    'scaler',
    'impute',
    'categorical',
    'numeric',
    'epochs',
    'batchSize',
    'learningRate',
    'seed',
    'percentile',
    'threshold',
    'calibrationFraction',
    'l1Activity',
    'profile',
  ];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out as TrainJobOptions;
}
