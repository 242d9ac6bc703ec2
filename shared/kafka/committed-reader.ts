/**
 * The port's committed-records reader on kafkajs (`KafkaPort.committedReader`): a consumer-group reader
 * of transactional topics that sees only committed records, built on `CommittedFilter` (read
 * uncommitted, decide every record by its producer's control record), because kafkajs's own
 * read_committed filter hands out records of aborted transactions when several transactional producers
 * write one partition (see `read-committed.ts`).
 *
 * Three kafkajs behaviours need handling besides the filter itself:
 * - A fetch that returns only control records is never given to `eachBatch` (kafkajs resolves past it).
 *   A commit marker that lands in such a fetch would be missed, and its transaction's records stranded.
 *   The reader notices the hole (the next batch of the partition starts after the offset it expects)
 *   and, when it holds records of open transactions there, seeks back so the markers are read again
 *   together with the data that follows them.
 * - When nothing follows the markers (a quiet partition, the end of a stream) there is no next batch.
 *   When kafkajs reports such a control-only fetch on a partition with open transactions, the reader
 *   appends a flush record (non-transactional, key `FLUSH_KEY`, no value) to that partition, unless told
 *   not to (`flush: false`), so the markers are followed by data; readers drop flush records
 *   (`isFlushRecord`).
 * - Offsets: the reader commits (unless `commit: false`) no further than the first record of the oldest
 *   open transaction of the partition, so a restarted reader sees every open transaction whole; it resets
 *   its state on every group join and re-reads from the committed offsets. Records after that point may be
 *   handed out again: consumers de-duplicate (flags and scores are keyed by their input position).
 */
import { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { silentLogger, type Logger } from '../log.js';
import type { Headers } from '../scoring/messages.js';
import type { CommittedReader, CommittedReaderOptions, GroupConsumerEvents, InRecord } from './port.js';
import { DefaultPartitioner } from './partitioner.js';
import { CommittedFilter, rawBatchRecords, type RawRecord } from './read-committed.js';

/** Key of the records a committed reader appends to push stranded commit markers out of a quiet partition. */
export const FLUSH_KEY = '__smae_flush__';

/** True for a flush record (see `FLUSH_KEY`): carries nothing, skip it. */
export function isFlushRecord(m: { key: Buffer | null; value: Buffer | null }): boolean {
  return m.value === null && m.key !== null && m.key.toString() === FLUSH_KEY;
}

type FetchedRecord = KafkaMessage & RawRecord;

function toInRecord(m: FetchedRecord): InRecord {
  return {
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: m.timestamp,
    headers: (m.headers ?? {}) as Headers,
  };
}

/**
 * Appends flush records: one per request, and a request while one is being written asks for one more
 * after it, so the last skipped marker is always followed by a flush.
 */
function flusher(producer: Producer, log: Logger): (topic: string, partition: number) => void {
  const flushing = new Map<string, { again: boolean }>();
  let failureLogged = false;
  const request = (topic: string, partition: number): void => {
    const id = `${topic}:${partition}`;
    const state = flushing.get(id);
    if (state) {
      state.again = true;
      return;
    }
    const current = { again: false };
    flushing.set(id, current);
    void producer
      .send({ topic, acks: -1, messages: [{ partition, key: FLUSH_KEY, value: null }] })
      .catch((err: unknown) => {
        if (failureLogged) return;
        failureLogged = true;
        log.warn(
          { topic, partition, err: (err as Error).message },
          'cannot append a flush record: committed records of a quiet partition wait for its next record',
        );
      })
      .finally(() => {
        flushing.delete(id);
        if (current.again) request(topic, partition);
      });
  };
  return request;
}

/** The filters of every topic read, and where the reader stands on each partition. */
class ReaderState {
  private readonly filters = new Map<string, CommittedFilter<FetchedRecord>>();
  /** Per topic-partition: the offset last sought back to, so a hole that stays is not chased forever. */
  readonly soughtTo = new Map<string, bigint>();
  /** Per topic-partition: the offset last committed. */
  readonly committed = new Map<string, bigint>();

  filterOf(topic: string): CommittedFilter<FetchedRecord> {
    let f = this.filters.get(topic);
    if (!f) {
      f = new CommittedFilter<FetchedRecord>();
      this.filters.set(topic, f);
    }
    return f;
  }

  pendingIn(topic: string, partition: number): number {
    return this.filters.get(topic)?.pendingIn(partition) ?? 0;
  }

  get pending(): number {
    let n = 0;
    for (const f of this.filters.values()) n += f.pending;
    return n;
  }

  /** After a rebalance kafkajs fetches from the committed offsets again: start over from there. */
  reset(): void {
    for (const f of this.filters.values()) f.reset();
    this.soughtTo.clear();
    this.committed.clear();
  }
}

interface BatchContext {
  consumer: Consumer;
  state: ReaderState;
  opts: CommittedReaderOptions;
  log: Logger;
}

/**
 * Checks where a batch starts against where the filter expects the partition to continue; false when
 * the reader sought elsewhere and the batch is to be dropped.
 */
function continuesFilter(c: BatchContext, topic: string, partition: number, first: bigint): boolean {
  const f = c.state.filterOf(topic);
  const id = `${topic}:${partition}`;
  const expected = f.nextOffset(partition);
  if (expected === undefined || first === expected) return true;
  const from = f.committableOffset(partition);
  if (first > expected && f.pendingIn(partition) > 0) {
    if (c.state.soughtTo.get(id) !== expected) {
      // kafkajs skipped control records between `expected` and `first`: read them again.
      c.state.soughtTo.set(id, expected);
      c.consumer.seek({ topic, partition, offset: expected.toString() });
      return false;
    }
    c.log.warn(
      { topic, partition, expected: String(expected), first: String(first), pending: f.pendingIn(partition) },
      'records between the expected and the fetched offset are gone: dropping open transactions',
    );
    f.reset(partition);
  } else if (first < expected) {
    // A re-read (retry after an error, a seek): start over, from the oldest open transaction if needed.
    f.reset(partition);
    if (from !== undefined && from < first) {
      c.consumer.seek({ topic, partition, offset: from.toString() });
      return false;
    }
  }
  return true;
}

/** Commits the partition's committable offset if it moved. */
async function commitIfMoved(c: BatchContext, payload: EachBatchPayload): Promise<void> {
  const { topic, partition } = payload.batch;
  const id = `${topic}:${partition}`;
  const offset = c.state.filterOf(topic).committableOffset(partition);
  if (offset === undefined || offset === c.state.committed.get(id)) return;
  await payload.commitOffsetsIfNecessary({
    topics: [{ topic, partitions: [{ partition, offset: offset.toString() }] }],
  });
  c.state.committed.set(id, offset);
}

async function eachBatch(c: BatchContext, payload: EachBatchPayload): Promise<void> {
  const { batch } = payload;
  const { topic, partition } = batch;
  const raw = rawBatchRecords(batch) as FetchedRecord[];
  if (raw.length === 0) return;
  if (!continuesFilter(c, topic, partition, BigInt(raw[0]!.offset))) return;
  c.state.soughtTo.delete(`${topic}:${partition}`);
  const f = c.state.filterOf(topic);
  const visible: InRecord[] = [];
  for (const m of raw) {
    for (const v of f.push(partition, m)) if (!isFlushRecord(v)) visible.push(toInRecord(v));
  }
  if (visible.length > 0) await c.opts.onRecords(topic, partition, visible);
  if (!payload.isRunning() || payload.isStale()) return;
  payload.resolveOffset(batch.lastOffset());
  if (c.opts.commit !== false) await commitIfMoved(c, payload);
  await payload.heartbeat();
}

/** The reader on kafkajs; see the module comment. */
export function createCommittedReader(
  kafka: Kafka,
  o: CommittedReaderOptions,
  events: GroupConsumerEvents = {},
): CommittedReader {
  const log = (o.logger ?? silentLogger).child({ component: 'committed-reader' });
  // Read uncommitted: the filter needs to see every record, control records included.
  const consumer = kafka.consumer({
    groupId: o.groupId,
    readUncommitted: true,
    ...(o.maxWaitTimeMs !== undefined ? { maxWaitTimeInMs: o.maxWaitTimeMs } : {}),
  });
  const producer =
    o.flush === false
      ? null
      : kafka.producer({ allowAutoTopicCreation: false, createPartitioner: DefaultPartitioner });
  const flush = producer ? flusher(producer, log) : null;
  const state = new ReaderState();
  const c: BatchContext = { consumer, state, opts: o, log };

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    state.reset();
    events.onAssignment?.(e.payload.memberAssignment);
  });
  consumer.on(consumer.events.CRASH, (e) => events.onCrash?.(e.payload.error, e.payload.restart));
  consumer.on(consumer.events.STOP, () => events.onStop?.());
  consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
    const { topic, partition, batchSize } = e.payload;
    // batchSize 0: kafkajs skips a fetch of control records only; if it held commit markers of records
    // we hold, get data written behind them so they are read again (see the module comment).
    if (batchSize === 0 && state.pendingIn(topic, partition) > 0) flush?.(topic, partition);
  });

  return {
    get pending() {
      return state.pending;
    },
    async connect() {
      await producer?.connect();
      await consumer.connect();
    },
    async run() {
      await consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        ...(o.concurrency ? { partitionsConsumedConcurrently: o.concurrency } : {}),
        eachBatch: (payload) => eachBatch(c, payload),
      });
    },
    async disconnect() {
      await consumer.disconnect();
      await producer?.disconnect();
    },
  };
}
