/**
 * A consumer-group reader of transactional topics that sees only committed records, built on
 * `CommittedFilter` (read uncommitted, decide every record by its producer's control record), because
 * kafkajs's own read_committed filter hands out records of aborted transactions when several
 * transactional producers write one partition (see `read-committed.ts`).
 *
 * Three kafkajs behaviours need handling besides the filter itself:
 * - A fetch that returns only control records is never given to `eachBatch` (kafkajs resolves past it).
 *   A commit marker that lands in such a fetch would be missed, and its transaction's records stranded.
 *   The reader notices the hole (the next batch of the partition starts after the offset it expects)
 *   and, when it holds records of open transactions there, seeks back so the markers are read again
 *   together with the data that follows them.
 * - When nothing follows the markers (a quiet partition, the end of a stream) there is no next batch.
 *   When kafkajs reports such a control-only fetch on a partition with open transactions, the reader
 *   appends a flush record (non-transactional, key `FLUSH_KEY`, no value) to that partition, if given a
 *   producer, so the markers are followed by data; readers drop flush records (`isFlushRecord`).
 * - Offsets: the reader commits (when asked to) no further than the first record of the oldest open
 *   transaction of the partition, so a restarted reader sees every open transaction whole; it resets its
 *   state on every group join and re-reads from the committed offsets. Records after that point may be
 *   handed out again: consumers de-duplicate (flags and scores are keyed by their input position).
 */
import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { silentLogger, type Logger } from '../log.js';
import { CommittedFilter, rawBatchRecords, type RawRecord } from './read-committed.js';

/** Key of the records a committed reader appends to push stranded commit markers out of a quiet partition. */
export const FLUSH_KEY = '__smae_flush__';

/** True for a flush record (see `FLUSH_KEY`): carries nothing, skip it. */
export function isFlushRecord(m: { key: Buffer | null; value: Buffer | null }): boolean {
  return m.value === null && m.key !== null && m.key.toString() === FLUSH_KEY;
}

export type FetchedRecord = KafkaMessage & RawRecord;

export interface CommittedReaderOptions {
  /** A consumer created with `readUncommitted: true` (the filter needs to see every record). */
  consumer: Consumer;
  /** Receives the committed records of one partition, in the order the filter releases them. */
  onRecords: (topic: string, partition: number, records: FetchedRecord[]) => Promise<void>;
  /** Commit offsets after each batch (bounded by open transactions); default true. */
  commit?: boolean;
  /** Writes flush records (see above); without it stranded markers wait for the partition's next record. */
  flushProducer?: Producer;
  partitionsConsumedConcurrently?: number;
  logger?: Logger;
}

export interface CommittedReader {
  /** Records of open transactions held back, over all topics. */
  readonly pending: number;
  /** Flush records this reader appended. */
  readonly flushes: number;
  /** Starts `consumer.run` (the consumer must be connected and subscribed). */
  run(): Promise<void>;
}

export function createCommittedReader(o: CommittedReaderOptions): CommittedReader {
  const log = (o.logger ?? silentLogger).child({ component: 'committed-reader' });
  const filters = new Map<string, CommittedFilter<FetchedRecord>>();
  const filterOf = (topic: string): CommittedFilter<FetchedRecord> => {
    let f = filters.get(topic);
    if (!f) {
      f = new CommittedFilter<FetchedRecord>();
      filters.set(topic, f);
    }
    return f;
  };
  /** Per topic-partition: the offset last sought back to, so a hole that stays is not chased forever. */
  const soughtTo = new Map<string, bigint>();
  const committed = new Map<string, bigint>();
  const flushing = new Map<string, { again: boolean }>();
  let flushes = 0;
  let flushFailedLogged = false;
  const { consumer } = o;

  consumer.on(consumer.events.GROUP_JOIN, () => {
    // After a rebalance kafkajs fetches from the committed offsets again: start over from there.
    for (const f of filters.values()) f.reset();
    soughtTo.clear();
    committed.clear();
  });

  consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
    const { topic, partition, batchSize } = e.payload;
    // batchSize 0: kafkajs skips a fetch of control records only; if it held commit markers of records
    // we hold, get data written behind them so they are read again (see the module comment).
    if (batchSize !== 0 || !o.flushProducer) return;
    if ((filters.get(topic)?.pendingIn(partition) ?? 0) === 0) return;
    requestFlush(topic, partition);
  });

  /**
   * Appends one flush record to the partition; a request while one is being written asks for one more
   * after it, so the last skipped marker is always followed by a flush.
   */
  const requestFlush = (topic: string, partition: number): void => {
    const id = `${topic}:${partition}`;
    const state = flushing.get(id);
    if (state) {
      state.again = true;
      return;
    }
    const current = { again: false };
    flushing.set(id, current);
    flushes++;
    void o
      .flushProducer!.send({ topic, acks: -1, messages: [{ partition, key: FLUSH_KEY, value: null }] })
      .catch((err: unknown) => {
        if (flushFailedLogged) return;
        flushFailedLogged = true;
        log.warn(
          { topic, partition, err: (err as Error).message },
          'cannot append a flush record: committed records of a quiet partition wait for its next record',
        );
      })
      .finally(() => {
        flushing.delete(id);
        if (current.again) requestFlush(topic, partition);
      });
  };

  const eachBatch = async ({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
    commitOffsetsIfNecessary,
  }: EachBatchPayload): Promise<void> => {
    const { topic, partition } = batch;
    const raw = rawBatchRecords(batch) as FetchedRecord[];
    if (raw.length === 0) return;
    const f = filterOf(topic);
    const id = `${topic}:${partition}`;
    const first = BigInt(raw[0]!.offset);
    const expected = f.nextOffset(partition);
    if (expected !== undefined && first !== expected) {
      const from = f.committableOffset(partition);
      if (first > expected && f.pendingIn(partition) > 0) {
        if (soughtTo.get(id) !== expected) {
          // kafkajs skipped control records between `expected` and `first`: read them again.
          soughtTo.set(id, expected);
          consumer.seek({ topic, partition, offset: expected.toString() });
          return;
        }
        log.warn(
          {
            topic,
            partition,
            expected: String(expected),
            first: String(first),
            pending: f.pendingIn(partition),
          },
          'records between the expected and the fetched offset are gone: dropping open transactions',
        );
        f.reset(partition);
      } else if (first < expected) {
        // A re-read (retry after an error, a seek): start over, from the oldest open transaction if needed.
        f.reset(partition);
        if (from !== undefined && from < first) {
          consumer.seek({ topic, partition, offset: from.toString() });
          return;
        }
      }
    }
    soughtTo.delete(id);
    const visible: FetchedRecord[] = [];
    for (const m of raw) {
      for (const v of f.push(partition, m)) if (!isFlushRecord(v)) visible.push(v);
    }
    if (visible.length > 0) await o.onRecords(topic, partition, visible);
    if (!isRunning() || isStale()) return;
    resolveOffset(batch.lastOffset());
    if (o.commit !== false) {
      const offset = f.committableOffset(partition);
      if (offset !== undefined && offset !== committed.get(id)) {
        await commitOffsetsIfNecessary({
          topics: [{ topic, partitions: [{ partition, offset: offset.toString() }] }],
        });
        committed.set(id, offset);
      }
    }
    await heartbeat();
  };

  return {
    get pending() {
      let n = 0;
      for (const f of filters.values()) n += f.pending;
      return n;
    },
    get flushes() {
      return flushes;
    },
    run: () =>
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        ...(o.partitionsConsumedConcurrently
          ? { partitionsConsumedConcurrently: o.partitionsConsumedConcurrently }
          : {}),
        eachBatch,
      }),
  };
}
