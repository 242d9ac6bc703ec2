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
import { InputError, SmaeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { RecordDecoder } from '../avro/decoder.js';
import type {
  BatchControl,
  GroupConsumerOptions,
  InBatch,
  KafkaPort,
  PartitionOffsets,
} from '../kafka/port.js';

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
  kafka: KafkaPort;
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
  let offsets: PartitionOffsets[];
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(opts.topic)) {
      throw new SmaeError('BAD_DATA_FILE', `Kafka topic "${opts.topic}" does not exist`, { field: 'topic' });
    }
    offsets = await admin.topicOffsets(opts.topic);
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
  const { records, skipped } =
    pending.length > 0 ? await consume(opts, pending, log) : { records: [], skipped: [] };

  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  if (skipped.length > 0) {
    log.warn(
      { skipped: skipped.length, first: skipped[0] },
      'records that could not be decoded were left out of the training data',
    );
  }
  return { records, skipped, plan };
}

/** The consumer settings of a one-off read (kafkajs's defaults, fetches waiting at most 500 ms). */
const REPLAY_CONSUMER: Omit<GroupConsumerOptions, 'groupId'> = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  maxBytesPerPartition: 1_048_576,
  maxBytes: 10_485_760,
  maxWaitTimeMs: 500,
  readCommitted: true,
};

/** Decodes the records of each planned partition's [start, high); `done` resolves once all are read. */
class ReplayCollector {
  readonly records: TopicRecord[] = [];
  readonly skipped: SkippedRecord[] = [];
  /** Partitions not read to their end yet. */
  readonly open: Set<number>;
  readonly done: Promise<void>;
  private finish!: () => void;
  private readonly ends: Map<number, number>;
  /** A batch redelivered after a retried failure must not add its records twice. */
  private readonly next: Map<number, number>;

  constructor(
    private readonly decoder: RecordDecoder,
    pending: readonly PartitionPlan[],
  ) {
    this.ends = new Map(pending.map((p) => [p.partition, p.high]));
    this.open = new Set(pending.map((p) => p.partition));
    this.next = new Map(pending.map((p) => [p.partition, p.start]));
    this.done = new Promise<void>((resolve) => (this.finish = resolve));
  }

  async take(batch: InBatch, control: BatchControl): Promise<void> {
    const end = this.ends.get(batch.partition);
    if (end !== undefined && this.open.has(batch.partition)) await this.decode(batch, end);
    control.resolveOffset((BigInt(batch.nextOffset) - 1n).toString());
  }

  private async decode(batch: InBatch, end: number): Promise<void> {
    const { partition } = batch;
    for (const message of batch.records) {
      const offset = Number(message.offset);
      if (offset >= end) break;
      if (offset < this.next.get(partition)!) continue;
      try {
        const decoded = await this.decoder.decode(message.value);
        this.records.push({ partition, offset, value: decoded.value });
      } catch (err) {
        if (!(err instanceof InputError)) throw err; // infrastructure (schema lookup): the batch is retried
        this.skipped.push({ partition, offset, code: err.code, message: err.message });
      }
      this.next.set(partition, offset + 1);
    }
    if (Number(batch.nextOffset) >= end) {
      this.open.delete(partition);
      if (this.open.size === 0) this.finish();
    }
  }
}

/** `work`, or the error `timedOut` makes once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function deleteGroup(kafka: KafkaPort, groupId: string, log: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (err) {
    log.debug({ err: (err as Error).message, groupId }, 'could not delete the throwaway group');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function consume(
  opts: ReadLastOptions,
  pending: PartitionPlan[],
  log: Logger,
): Promise<ReplayCollector> {
  const groupId = `${opts.groupPrefix ?? 'smae.trainer.replay'}.${randomUUID()}`;
  const collector = new ReplayCollector(opts.decoder, pending);
  let fail!: (err: unknown) => void;
  const crashed = new Promise<never>((_, reject) => (fail = reject));
  crashed.catch(() => undefined); // observed by the race below; never an unhandled rejection
  const consumer = opts.kafka.groupConsumer(
    { groupId, ...REPLAY_CONSUMER },
    { onCrash: (err, restart) => (restart ? undefined : fail(err)) },
  );
  await consumer.connect();
  try {
    await consumer.run({
      topics: [opts.topic],
      fromBeginning: false,
      concurrency: 1,
      eachBatch: (batch, control) => collector.take(batch, control),
    });
    for (const p of pending)
      consumer.seek({ topic: opts.topic, partition: p.partition, offset: String(p.start) });
    const timeoutMs = opts.timeoutMs ?? 120_000;
    await within(
      Promise.race([collector.done, crashed]),
      timeoutMs,
      () =>
        new SmaeError(
          'INFRA_UNAVAILABLE',
          `reading the last ${opts.last} records of "${opts.topic}" did not finish within ${timeoutMs} ms ` +
            `(${collector.records.length} read, partitions still open: ${[...collector.open].join(', ')})`,
        ),
    );
  } finally {
    await consumer
      .disconnect()
      .catch((err: Error) => log.warn({ err: err.message }, 'consumer disconnect failed'));
    await deleteGroup(opts.kafka, groupId, log);
  }
  return collector;
}
