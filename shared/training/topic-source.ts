/**
 * Training rows from a Kafka topic: the last N records across its partitions, decoded from Avro with
 * the same `RecordDecoder` (and so the same reader schema) the scorer uses.
 *
 * How "the last N" is read:
 * 1. The partitions' low and high watermarks are fetched (read-committed, so a transactional
 *    producer's open transaction is not waited for).
 * 2. N is split over the partitions by water-filling: every partition gets an equal share, capped by
 *    what it holds, and what a short partition cannot give goes to the others (leftover single rows go
 *    to the lowest partition numbers). Keyed producers spread records roughly evenly, so this
 *    approximates "the most recent N" while reading exactly the records it will use.
 * 3. A consumer in a throwaway group (never committed, deleted afterwards) seeks every partition to
 *    `high - share` and reads up to the high watermark fetched in step 1; records that arrive later are
 *    ignored, so the read ends even on a busy topic. Offsets left out by compaction or transaction
 *    markers just mean fewer rows.
 *
 * The rows come back ordered by partition, then offset, whatever order the fetches arrived in: the
 * same topic content always gives the same row order, hence (with a seed) the same model — the same
 * model a CSV file with those rows in that order gives.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { InputError, SmaeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { RecordDecoder } from '../avro/decoder.js';

export interface PartitionPlan {
  partition: number;
  low: number;
  high: number;
  /** First offset to read; the read covers [start, high). */
  start: number;
  take: number;
}

export interface TopicRecord {
  partition: number;
  offset: number;
  value: Record<string, unknown>;
}

export interface SkippedRecord {
  partition: number;
  offset: number;
  code: string;
  message: string;
}

export interface ReadLastOptions {
  kafka: Kafka;
  topic: string;
  /** How many records in total, across partitions. */
  last: number;
  decoder: RecordDecoder;
  /** Prefix of the throwaway consumer group (a UUID is appended). Default `smae.trainer.replay`. */
  groupPrefix?: string;
  /** Give up (INFRA_UNAVAILABLE) if the read has not finished after this long. Default 120 s. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface ReadLastResult {
  records: TopicRecord[];
  skipped: SkippedRecord[];
  plan: PartitionPlan[];
}

/** Splits `n` over partitions holding `available[i]` records each (see the module comment). */
export function splitLast(available: readonly number[], n: number): number[] {
  const take = available.map(() => 0);
  let remaining = Math.max(0, Math.floor(n));
  let active = available.map((_, i) => i).filter((i) => available[i]! > 0);
  while (remaining > 0 && active.length > 0) {
    const share = Math.floor(remaining / active.length);
    if (share === 0) {
      for (const i of active.slice(0, remaining)) take[i]! += 1;
      break;
    }
    for (const i of active) {
      const t = Math.min(share, available[i]! - take[i]!);
      take[i]! += t;
      remaining -= t;
    }
    active = active.filter((i) => take[i]! < available[i]!);
  }
  return take;
}

/** Reads and decodes the last `last` records of `topic`; see the module comment. */
export async function readLastRecords(opts: ReadLastOptions): Promise<ReadLastResult> {
  const log = (opts.logger ?? silentLogger).child({ component: 'topic-source', topic: opts.topic });
  if (!Number.isInteger(opts.last) || opts.last < 1) {
    throw new SmaeError(
      'INVALID_CONFIG',
      `the number of records to read must be a whole number ≥ 1 (got ${opts.last})`,
      {
        field: 'last',
      },
    );
  }
  const admin = opts.kafka.admin();
  await admin.connect();
  let offsets: { partition: number; low: string; high: string }[];
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(opts.topic)) {
      throw new SmaeError('BAD_DATA_FILE', `Kafka topic "${opts.topic}" does not exist`, { field: 'topic' });
    }
    offsets = await admin.fetchTopicOffsets(opts.topic);
  } finally {
    await admin.disconnect();
  }
  offsets.sort((a, b) => a.partition - b.partition);
  const available = offsets.map((o) => Number(o.high) - Number(o.low));
  const takes = splitLast(available, opts.last);
  const plan: PartitionPlan[] = offsets.map((o, i) => ({
    partition: o.partition,
    low: Number(o.low),
    high: Number(o.high),
    start: Number(o.high) - takes[i]!,
    take: takes[i]!,
  }));
  log.info(
    { plan: plan.map((p) => [p.partition, p.start, p.high]) },
    'reading the last records of the topic',
  );

  const pending = plan.filter((p) => p.take > 0);
  const records: TopicRecord[] = [];
  const skipped: SkippedRecord[] = [];
  if (pending.length > 0) await consume(opts, pending, records, skipped, log);

  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  if (skipped.length > 0) {
    log.warn(
      { skipped: skipped.length, first: skipped[0] },
      'records that could not be decoded were left out of the training data',
    );
  }
  return { records, skipped, plan };
}

async function consume(
  opts: ReadLastOptions,
  pending: PartitionPlan[],
  records: TopicRecord[],
  skipped: SkippedRecord[],
  log: Logger,
): Promise<void> {
  const groupId = `${opts.groupPrefix ?? 'smae.trainer.replay'}.${randomUUID()}`;
  const consumer = opts.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  const ends = new Map(pending.map((p) => [p.partition, p.high]));
  const open = new Set(pending.map((p) => p.partition));
  // A batch redelivered after a retried failure must not add its records twice.
  const next = new Map(pending.map((p) => [p.partition, p.start]));
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  done.catch(() => undefined); // observed by the race below; never an unhandled rejection

  await consumer.connect();
  try {
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) fail(e.payload.error);
    });
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const end = ends.get(batch.partition);
        if (end === undefined || !open.has(batch.partition)) return;
        for (const message of batch.messages) {
          const offset = Number(message.offset);
          if (offset >= end) break;
          if (offset < next.get(batch.partition)!) continue;
          try {
            const decoded = await opts.decoder.decode(message.value);
            records.push({ partition: batch.partition, offset, value: decoded.value });
          } catch (err) {
            if (!(err instanceof InputError)) throw err; // infrastructure (schema lookup): retried by kafkajs
            skipped.push({ partition: batch.partition, offset, code: err.code, message: err.message });
          }
          next.set(batch.partition, offset + 1);
        }
        if (Number(batch.lastOffset()) + 1 >= end) {
          open.delete(batch.partition);
          if (open.size === 0) finish();
        }
      },
    });
    for (const p of pending)
      consumer.seek({ topic: opts.topic, partition: p.partition, offset: String(p.start) });
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SmaeError(
              'INFRA_UNAVAILABLE',
              `reading the last ${opts.last} records of "${opts.topic}" did not finish within ${timeoutMs} ms ` +
                `(${records.length} read, partitions still open: ${[...open].join(', ')})`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer
      .disconnect()
      .catch((err: Error) => log.warn({ err: err.message }, 'consumer disconnect failed'));
    const admin = opts.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([groupId]);
    } catch (err) {
      log.debug({ err: (err as Error).message, groupId }, 'could not delete the throwaway group');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
