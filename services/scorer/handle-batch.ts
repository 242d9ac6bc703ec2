/**
 * One fetched batch of one partition, as a plain function of its dependencies: cut into transaction-sized
 * ranges, each scored (`shared/scoring`) and delivered with its offsets (`delivery.ts`); a range whose
 * outputs the broker refuses is split down to the record at fault, which is dead-lettered by reference.
 */
import { InputError, isSmaeError } from '../../shared/errors.js';
import type { BatchControl, InBatch, InRecord } from '../../shared/kafka/port.js';
import { chunkBySize } from '../../shared/kafka/record-size.js';
import type { Logger } from '../../shared/log.js';
import type { BatchOutcome, BatchScorer } from '../../shared/scoring/batch.js';
import { deadLetterFor, fitDeadLetter } from '../../shared/scoring/dead-letter.js';
import type { SourceMessage } from '../../shared/scoring/messages.js';
import type { PartitionProgress } from '../../shared/scoring/progress.js';
import type { ScorerConfig } from './config.js';
import { unclaimedRecords, type Delivery } from './delivery.js';
import { recordBatchMetrics, type ScorerMetrics } from './metrics.js';
import type { ModelSlot } from './model-slot.js';
import type { WindowWriter } from './window-writer.js';

export interface BatchInfo {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  records: number;
  flagged: number;
  deadLetters: number;
  modelVersion: number | null;
  /** When the batch's transaction (or offset commit) completed, ms since the epoch. */
  committedAt: number;
  /** Kafka timestamps of the batch's records, ms (commit time minus these is the end-to-end latency). */
  timestamps: number[];
}

export interface BatchDeps {
  config: Pick<ScorerConfig, 'pipeline' | 'maxTransactionBytes' | 'maxTransactionRecords'>;
  delivery: Delivery;
  scorer: BatchScorer;
  slot: ModelSlot;
  metrics: ScorerMetrics;
  progress: PartitionProgress;
  window: WindowWriter | null;
  /** True for an error the broker gave because of records it refuses (too large, invalid). */
  isRecordRejection(err: unknown): boolean;
  log: Logger;
  onBatch?: ((info: BatchInfo) => void) | undefined;
}

/**
 * A fetched batch, cut into ranges of at most `maxTransactionRecords` records and `maxTransactionBytes`
 * input bytes, each delivered in its own transaction (outputs + offsets), so a large fetch does not
 * become one long transaction and the bytes of outputs held at once are bounded.
 */
export async function handleBatch(deps: BatchDeps, batch: InBatch, control: BatchControl): Promise<void> {
  const { resolveOffset, heartbeat, isRunning, isStale } = control;
  if (!isRunning() || isStale() || batch.records.length === 0) return;
  const { topic, partition } = batch;
  const { metrics, progress } = deps;
  const fetchedAt = Date.now();
  for (const m of batch.records) {
    const ts = Number(m.timestamp);
    if (Number.isFinite(ts)) metrics.recordAgeAtFetchSeconds.observe(Math.max(0, fetchedAt - ts) / 1000);
  }
  progress.fetched(topic, partition, Number(batch.records[0]!.timestamp));
  const ranges = chunkBySize(
    batch.records,
    (m) => (m.value?.length ?? 0) + (m.key?.length ?? 0),
    deps.config.maxTransactionBytes,
    deps.config.maxTransactionRecords,
  );
  const batchLast = (BigInt(batch.nextOffset) - 1n).toString();
  try {
    for (let i = 0; i < ranges.length; i++) {
      if (!isRunning() || isStale()) return;
      const range = ranges[i]!;
      const isLast = i === ranges.length - 1;
      // The last range commits past the batch's end (which may be a control record).
      const nextOffset = isLast ? nextOf(batchLast) : nextOf(range[range.length - 1]!.offset);
      const result = await processRange(deps, { topic, partition, batchLast, control }, range, nextOffset);
      if (result === 'seeked') return;
      resolveOffset(isLast ? batchLast : range[range.length - 1]!.offset);
      const next = ranges[i + 1]?.[0];
      // After the last range: records still waiting (lag) get "now" as their age's lower bound.
      progress.advanced(
        topic,
        partition,
        next ? Number(next.timestamp) : batch.lag() > 0 ? Date.now() : null,
      );
      metrics.consumerLag.set({ topic, partition: String(partition) }, batch.lag());
      await heartbeat().catch(() => undefined);
    }
  } catch (err) {
    metrics.batchErrors.inc();
    await deps.delivery.fail(topic, partition, err).catch(() => undefined);
    if (!isRunning()) return; // shutting down: the batch is re-delivered to whoever owns it next
    deps.log.warn({ topic, partition, err: describe(err) }, 'batch failed; it will be re-delivered');
    throw err;
  }
}

interface RangeContext {
  topic: string;
  partition: number;
  /** The last offset of the fetched batch the range belongs to. */
  batchLast: string;
  control: BatchControl;
}

/**
 * Scores `messages` and delivers their outputs with the offset `nextOffset` in one transaction. When the
 * broker refuses the outputs for a reason tied to records (too large, invalid), the range is split in
 * two and each half delivered on its own, down to the one record at fault, which is dead-lettered as
 * `OUTPUT_REJECTED` (by reference) so the partition moves on; any other error propagates and the whole
 * batch is re-delivered.
 */
async function processRange(
  deps: BatchDeps,
  ctx: RangeContext,
  messages: readonly InRecord[],
  nextOffset: string,
): Promise<'done' | 'seeked'> {
  const { topic, partition } = ctx;
  const started = performance.now();
  const unclaimed = unclaimedRecords(
    await deps.delivery.begin(topic, partition),
    messages,
    nextOffset,
    ctx.batchLast,
  );
  if (unclaimed.kind === 'seek') {
    deps.log.info(
      { topic, partition, committed: unclaimed.offset },
      'batch already committed by a previous owner; seeking',
    );
    ctx.control.seek(unclaimed.offset);
    return 'seeked';
  }
  if (unclaimed.kind === 'done') return 'done';
  const todo = unclaimed.records;
  if (todo.length < messages.length) {
    deps.log.info(
      { topic, partition, from: todo[0]!.offset },
      'skipping records committed by a previous owner',
    );
  }
  // Literals of one shape: these objects reach avsc's writer and every output (see shared/scoring/batch.ts).
  const sources: SourceMessage[] = todo.map((m) => ({
    topic,
    partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    timestamp: m.timestamp,
    headers: m.headers,
  }));
  const outcome = await scoreWithCurrentModel(deps, sources);
  try {
    await deps.delivery.commit(topic, partition, nextOffset, outcome);
  } catch (err) {
    if (!deps.isRecordRejection(err)) throw err;
    await deps.delivery.fail(topic, partition, err);
    if (todo.length === 1) {
      await rejectRecord(deps, sources[0]!, err, nextOffset);
      return 'done';
    }
    deps.metrics.batchSplits.inc();
    const mid = Math.floor(todo.length / 2);
    const left = todo.slice(0, mid);
    deps.log.warn(
      { topic, partition, from: todo[0]!.offset, records: todo.length, err: describe(err) },
      'the broker refused outputs of this range; splitting it to isolate the record',
    );
    const first = await processRange(deps, ctx, left, nextOf(left[left.length - 1]!.offset));
    if (first === 'seeked') return first;
    return processRange(deps, ctx, todo.slice(mid), nextOffset);
  }
  recordBatchMetrics(deps.metrics, outcome, sources, (performance.now() - started) / 1000);
  deps.window?.append(outcome.window);
  if (sources.length > 0) deps.onBatch?.(batchInfo(sources, outcome, nextOffset));
  return 'done';
}

/** Scores with the model installed now; a swap waits for the lease to be released. */
async function scoreWithCurrentModel(deps: BatchDeps, sources: SourceMessage[]): Promise<BatchOutcome> {
  const lease = deps.slot.acquire();
  try {
    const outcome = await deps.scorer.score(sources, lease.model);
    deps.metrics.stageSeconds.observe({ stage: 'decode_score' }, (outcome.decodeMs + outcome.scoreMs) / 1000);
    return outcome;
  } finally {
    lease.release();
  }
}

/** The one record whose outputs the broker refuses: dead-lettered by reference, and the partition moves on. */
async function rejectRecord(
  deps: BatchDeps,
  source: SourceMessage,
  cause: unknown,
  nextOffset: string,
): Promise<void> {
  const error = new InputError(
    'OUTPUT_REJECTED',
    `the broker refused this record's outputs: ${describe(cause)}`,
  );
  const dl = fitDeadLetter(deadLetterFor(source, error, deps.config.pipeline), 0, { alwaysReference: true });
  deps.log.warn(
    { topic: source.topic, partition: source.partition, offset: source.offset, err: describe(cause) },
    'record dead-lettered by reference: the broker refused its outputs',
  );
  const begin = await deps.delivery.begin(source.topic, source.partition);
  if (begin.committedOffset && BigInt(begin.committedOffset) >= BigInt(nextOffset)) return;
  await deps.delivery.commit(source.topic, source.partition, nextOffset, {
    flags: [],
    scores: [],
    deadLetters: [dl],
  });
  deps.metrics.records.inc();
  deps.metrics.deadLetters.inc({ code: error.code });
}

function batchInfo(sources: readonly SourceMessage[], outcome: BatchOutcome, nextOffset: string): BatchInfo {
  return {
    topic: sources[0]!.topic,
    partition: sources[0]!.partition,
    firstOffset: sources[0]!.offset,
    lastOffset: (BigInt(nextOffset) - 1n).toString(),
    records: outcome.records,
    flagged: outcome.flagged,
    deadLetters: outcome.deadLetters.length,
    modelVersion: outcome.modelVersion,
    committedAt: Date.now(),
    timestamps: sources.map((m) => Number(m.timestamp)),
  };
}

const nextOf = (offset: string): string => (BigInt(offset) + 1n).toString();

export function describe(err: unknown): string {
  if (isSmaeError(err)) return `${err.code}: ${err.message}`;
  return (err as Error)?.message ?? String(err);
}
