/** The scorer's Prometheus metrics (registered on the service's own registry). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { RecordHistogram } from '../../shared/ops/record-histogram.js';
import type { PartitionProgress } from '../../shared/scoring/progress.js';

export interface ScorerMetrics {
  records: Counter;
  flags: Counter;
  deadLetters: Counter<'code'>;
  batchSize: Histogram;
  scoringSeconds: Histogram;
  batchSeconds: Histogram;
  /** Per record: `RecordHistogram` (cheap to observe thousands of times a batch). */
  endToEndLagSeconds: RecordHistogram;
  consumerLag: Gauge<'topic' | 'partition'>;
  modelVersion: Gauge;
  modelCreated: Gauge;
  modelSwaps: Counter;
  modelsRefused: Counter<'code'>;
  scores: RecordHistogram;
  transactions: Counter<'outcome'>;
  fenced: Counter;
  batchErrors: Counter;
  windowEntries: Counter;
  windowDropped: Counter;
  windowSampledOut: Counter;
  windowErrors: Counter;
  recordAgeAtFetchSeconds: RecordHistogram;
  stageSeconds: Histogram<'stage'>;
  kafkaRetries: Counter<'error'>;
  oldestUnprocessedAgeSeconds: Gauge<'topic' | 'partition'>;
  stalledPartitions: Gauge;
  batchSplits: Counter;
}

/** Stages of one transaction (or offset commit) timed by `smae_scorer_stage_seconds`. */
export type ScorerStage = 'decode_score' | 'send' | 'send_offsets' | 'commit';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createScorerMetrics(registry: Registry, progress?: PartitionProgress): ScorerMetrics {
  const registers = [registry];
  return {
    records: new Counter({ name: 'smae_scorer_records_total', help: 'Records consumed', registers }),
    flags: new Counter({
      name: 'smae_scorer_flags_total',
      help: 'Flags produced (records over the threshold)',
      registers,
    }),
    deadLetters: new Counter({
      name: 'smae_scorer_dead_letters_total',
      help: 'Records sent to the dead-letter topic, by error code',
      labelNames: ['code'],
      registers,
    }),
    batchSize: new Histogram({
      name: 'smae_scorer_batch_size',
      help: 'Records per consumed batch',
      buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 25000],
      registers,
    }),
    scoringSeconds: new Histogram({
      name: 'smae_scorer_scoring_seconds',
      help: 'Time to decode, prepare and score one batch (one tensor)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'smae_scorer_batch_seconds',
      help: 'Time to process one batch end to end, including the transaction or commit',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    endToEndLagSeconds: new RecordHistogram({
      name: 'smae_scorer_end_to_end_lag_seconds',
      help: 'Commit time minus the record timestamp',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'smae_scorer_consumer_lag',
      help: 'Records between the last consumed offset and the high watermark, per input partition',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    modelVersion: new Gauge({
      name: 'smae_scorer_model_version',
      help: 'Registry version of the model in use',
      registers,
    }),
    modelCreated: new Gauge({
      name: 'smae_scorer_model_created_timestamp_seconds',
      help: 'Creation time of the model in use (Unix seconds): its age is time() minus this',
      registers,
    }),
    modelSwaps: new Counter({ name: 'smae_scorer_model_swaps_total', help: 'Models installed', registers }),
    modelsRefused: new Counter({
      name: 'smae_scorer_models_refused_total',
      help: 'Model versions refused (failed verification or incompatible), by error code',
      labelNames: ['code'],
      registers,
    }),
    scores: new RecordHistogram({
      name: 'smae_scorer_score',
      help: 'Reconstruction MSE of scored records',
      buckets: [0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 100],
      registers,
    }),
    transactions: new Counter({
      name: 'smae_scorer_transactions_total',
      help: 'Kafka transactions, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    fenced: new Counter({
      name: 'smae_scorer_fenced_total',
      help: 'Partitions on which this scorer was fenced',
      registers,
    }),
    batchErrors: new Counter({
      name: 'smae_scorer_batch_errors_total',
      help: 'Batches that failed and were retried',
      registers,
    }),
    windowEntries: new Counter({
      name: 'smae_scorer_window_entries_total',
      help: 'Entries written to the window stream',
      registers,
    }),
    windowDropped: new Counter({
      name: 'smae_scorer_window_dropped_total',
      help: 'Window entries dropped before writing (beyond MAXLEN while Redis was slow)',
      registers,
    }),
    windowSampledOut: new Counter({
      name: 'smae_scorer_window_sampled_out_total',
      help: 'Scored records not written to the window stream: beyond its entries per second (SMAE_WINDOW_MAX_PER_SECOND)',
      registers,
    }),
    windowErrors: new Counter({
      name: 'smae_scorer_window_errors_total',
      help: 'Failed window writes',
      registers,
    }),
    recordAgeAtFetchSeconds: new RecordHistogram({
      name: 'smae_scorer_record_age_at_fetch_seconds',
      help: 'Fetch time minus the record timestamp (time spent waiting in the input topic)',
      buckets: [...LATENCY_BUCKETS, 30, 60, 300],
      registers,
    }),
    stageSeconds: new Histogram({
      name: 'smae_scorer_stage_seconds',
      help: 'Time per stage of one transaction: decode_score, send (outputs), send_offsets, commit',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    kafkaRetries: new Counter({
      name: 'smae_scorer_kafka_retries_total',
      help: 'Requests the Kafka client retried after a retriable broker error, by error type',
      labelNames: ['error'],
      registers,
    }),
    oldestUnprocessedAgeSeconds: new Gauge({
      name: 'smae_scorer_oldest_unprocessed_age_seconds',
      help: 'Age of the oldest fetched but uncommitted record per input partition (0 when caught up)',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        if (!progress) return;
        this.reset();
        for (const a of progress.oldestAges()) {
          this.set({ topic: a.topic, partition: String(a.partition) }, a.ageMs / 1000);
        }
      },
    }),
    stalledPartitions: new Gauge({
      name: 'smae_scorer_stalled_partitions',
      help: 'Input partitions with waiting records that have not advanced for the stall timeout',
      registers,
      collect() {
        if (progress) this.set(progress.stalled().length);
      },
    }),
    batchSplits: new Counter({
      name: 'smae_scorer_batch_splits_total',
      help: 'Batches split in two to isolate a record whose outputs the broker refused',
      registers,
    }),
  };
}

/** A delivered range's figures, in one call: counts, sizes, times, end-to-end lag and scores. */
export function recordBatchMetrics(
  metrics: ScorerMetrics,
  outcome: {
    records: number;
    flagged: number;
    deadLettersByCode: ReadonlyMap<string, number>;
    decodeMs: number;
    scoreMs: number;
    scoreValues: Iterable<number>;
  },
  sources: readonly { timestamp: string }[],
  seconds: number,
): void {
  const now = Date.now();
  metrics.records.inc(outcome.records);
  metrics.flags.inc(outcome.flagged);
  for (const [code, n] of outcome.deadLettersByCode) metrics.deadLetters.inc({ code }, n);
  metrics.batchSize.observe(outcome.records);
  metrics.scoringSeconds.observe((outcome.decodeMs + outcome.scoreMs) / 1000);
  metrics.batchSeconds.observe(seconds);
  for (const m of sources) {
    const ts = Number(m.timestamp);
    if (Number.isFinite(ts)) metrics.endToEndLagSeconds.observe(Math.max(0, now - ts) / 1000);
  }
  for (const s of outcome.scoreValues) metrics.scores.observe(s);
}
