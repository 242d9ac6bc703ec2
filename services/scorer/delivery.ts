/**
 * Delivery: how a scored batch's outputs and its consumed offsets reach Kafka.
 *
 * ## Exactly-once (default): one transaction per batch, one transactional id per input partition
 *
 * Per batch: begin a transaction, produce flags, dead letters and (optionally) scores, add the consumed
 * offsets to the transaction (`sendOffsets`, i.e. TxnOffsetCommit for the scorer's group), commit.
 * Outputs and offsets become visible together or not at all; consumers downstream read with
 * `isolation.level=read_committed`. On any error the transaction is aborted and the batch is re-delivered
 * from the committed offset.
 *
 * The hazard is a zombie: a scorer that stalls (GC pause, network partition) past its session timeout,
 * loses its partitions to another member, then wakes up and commits a transaction for a partition it no
 * longer owns — duplicating the new owner's work. Newer clients (KIP-447) fence zombies by sending the
 * group generation with the offset commit; kafkajs does not. So the fencing comes from the transactional
 * id instead, as Kafka Streams did before KIP-447 ("eos-alpha"): the id is derived from the INPUT
 * PARTITION, `${transactionalIdPrefix}.${topic}.${partition}`, not from the process. Whoever owns a
 * partition uses the same id; when a new owner initialises its producer (InitProducerId), the broker
 * bumps the id's epoch, aborts the zombie's open transaction and rejects anything the zombie sends later
 * with a fencing error. One producer per assigned partition is created lazily, on that partition's first
 * batch, and closed when the partition is revoked.
 *
 * One race remains: the new owner reads the group's committed offset when it joins, but initialises the
 * producer a moment later, and in between the zombie may still COMMIT a transaction. So right after a
 * producer is initialised — when no zombie can commit any more — the committed offset is read again and
 * records below it are skipped (`Begin.committedOffset`). The same re-read covers a commit whose response
 * was lost: after any failure the producer is dropped and re-initialised, so a retried batch first looks
 * at what actually got committed.
 *
 * A member fenced on a partition does not re-create that partition's producer (which would fence the
 * rightful owner back) until the group has re-assigned partitions (`onAssignment`).
 *
 * ## Exactly-once, one transaction per group member (option, librdkafka only)
 *
 * `transactionScope: member` (`member-delivery.ts`): the batches of all the member's partitions that are
 * ready together share one transaction on one producer; zombies are fenced by the group generation the
 * offsets carry (KIP-447), which kafkajs does not send.
 *
 * ## At-least-once (option)
 *
 * One idempotent producer: send the batch's outputs (acks=all), then commit the offsets. A crash between
 * the two re-delivers the batch (duplicates, never losses); flags are keyed by the input position, so
 * downstream can de-duplicate. Cheaper: no transaction markers, no per-partition producers.
 */
import type {
  GroupConsumer,
  KafkaAdmin,
  KafkaPort,
  Producer,
  TopicRecords,
  TransactionalProducer,
} from '../../shared/kafka/port.js';
import { chunkBySize, estimateRecordBytes, TopicSizeLimits } from '../../shared/kafka/record-size.js';
import type { Logger } from '../../shared/log.js';
import { fitDeadLetter } from '../../shared/scoring/dead-letter.js';
import type { OutputMessage } from '../../shared/scoring/messages.js';

export type DeliveryMode = 'exactly-once' | 'at-least-once';

export interface BatchOutputs {
  flags: readonly OutputMessage[];
  deadLetters: readonly OutputMessage[];
  scores: readonly OutputMessage[];
}

export interface OutputTopics {
  flags: string;
  deadLetters: string;
  scores: string;
}

export interface Begin {
  /**
   * Set when the partition's producer was just initialised: the group's committed offset at that
   * moment (null when the group has none). Records below it were already processed and committed.
   */
  committedOffset?: string | null;
}

export interface Delivery {
  readonly mode: DeliveryMode;
  /** Called before scoring a batch of `topic`/`partition`. */
  begin(topic: string, partition: number): Promise<Begin>;
  /** Produces the outputs and commits `nextOffset` (the offset after the batch's last record). */
  commit(topic: string, partition: number, nextOffset: string, outputs: BatchOutputs): Promise<void>;
  /** Called after a batch failed (before it is re-delivered). */
  fail(topic: string, partition: number, err: unknown): Promise<void>;
  /** The group's new assignment: resources of partitions no longer owned are released. */
  onAssignment(assignment: Record<string, number[]>): Promise<void>;
  close(): Promise<void>;
}

export interface DeliveryEvents {
  onTransaction?(outcome: 'committed' | 'aborted'): void;
  onFenced?(topic: string, partition: number): void;
  /** Time of one stage: the outputs' sends, the offsets added to the transaction, the commit. */
  onStage?(stage: 'send' | 'send_offsets' | 'commit', seconds: number): void;
}

export interface DeliveryOptions {
  kafka: KafkaPort;
  groupId: string;
  topics: OutputTopics;
  logger: Logger;
  events?: DeliveryEvents;
  /** Output topics' max.message.bytes; sends are chunked below them. Kafka's default when absent. */
  limits?: TopicSizeLimits;
}

/** Retry policy of the transactional producers (the adapter's default when absent). */
export interface ProducerRetry {
  initialRetryTimeMs: number;
  maxRetryTimeMs: number;
}

export interface ExactlyOnceOptions extends DeliveryOptions {
  transactionalIdPrefix: string;
  /** Broker-side transaction timeout (default 60 s): an abandoned transaction is aborted after it. */
  transactionTimeoutMs?: number;
  /** Reads committed offsets after a producer is initialised. */
  admin: KafkaAdmin;
  retry?: ProducerRetry;
}

export interface AtLeastOnceOptions extends DeliveryOptions {
  consumer: GroupConsumer;
}

/** The transactional id of an input partition. */
export function transactionalIdFor(prefix: string, topic: string, partition: number): string {
  return `${prefix}.${topic}.${partition}`;
}

/**
 * The produce requests for a batch's outputs: each topic's records cut into chunks that fit its
 * `max.message.bytes` (a chunk is at most one record batch per partition), the i-th chunks of all topics
 * sent together, so a small batch is still one request. A dead letter too large for its topic is replaced
 * by a reference (`fitDeadLetter`).
 */
export function outputSends(
  topics: OutputTopics,
  outputs: BatchOutputs,
  limits: TopicSizeLimits,
): TopicRecords[][] {
  const dlBudget = limits.budget(topics.deadLetters);
  const perTopic: [string, OutputMessage[][]][] = [
    [topics.flags, outputs.flags],
    [topics.deadLetters, outputs.deadLetters.map((m) => fitDeadLetter(m, dlBudget))],
    [topics.scores, outputs.scores],
  ]
    .filter(([, ms]) => (ms as readonly OutputMessage[]).length > 0)
    .map(([topic, ms]) => [
      topic as string,
      chunkBySize(ms as OutputMessage[], estimateRecordBytes, limits.budget(topic as string)),
    ]);
  const sends: TopicRecords[][] = [];
  const rounds = Math.max(0, ...perTopic.map(([, chunks]) => chunks.length));
  for (let i = 0; i < rounds; i++) {
    const send: TopicRecords[] = [];
    for (const [topic, chunks] of perTopic) {
      const chunk = chunks[i];
      if (chunk) send.push({ topic, records: chunk });
    }
    sends.push(send);
  }
  return sends;
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

interface PartitionProducer {
  producer: TransactionalProducer;
  transactionalId: string;
  /** The open transaction, between the first send and commit/abort. */
  busy: boolean;
}

export class ExactlyOnceDelivery implements Delivery {
  readonly mode = 'exactly-once' as const;
  private readonly producers = new Map<string, PartitionProducer>();
  private readonly fenced = new Set<string>();
  private readonly log: Logger;
  private readonly limits: TopicSizeLimits;

  constructor(private readonly opts: ExactlyOnceOptions) {
    this.log = opts.logger.child({ component: 'delivery', mode: this.mode });
    this.limits = opts.limits ?? new TopicSizeLimits();
  }

  /** Number of live per-partition producers (for tests and metrics). */
  get producerCount(): number {
    return this.producers.size;
  }

  async begin(topic: string, partition: number): Promise<Begin> {
    const key = tpKey(topic, partition);
    if (this.fenced.has(key)) {
      throw new Error(
        `partition ${topic}/${partition} was taken over by another scorer (producer fenced); waiting for the group to re-assign`,
      );
    }
    if (this.producers.has(key)) return {};
    const transactionalId = transactionalIdFor(this.opts.transactionalIdPrefix, topic, partition);
    const producer = this.opts.kafka.transactionalProducer({
      transactionalId,
      transactionTimeoutMs: this.opts.transactionTimeoutMs ?? 60_000,
      ...(this.opts.retry ? { retry: this.opts.retry } : {}),
    });
    let committedOffset: string | null;
    try {
      // Takes over the id: the broker bumps its epoch, which fences any other holder, and completes
      // (aborts) its open transaction before answering.
      await producer.open();
      // Only now can no zombie commit for this partition: read what the group has committed.
      committedOffset = await this.committedOffset(topic, partition);
    } catch (err) {
      await producer.close().catch(() => undefined);
      throw err;
    }
    this.producers.set(key, { producer, transactionalId, busy: false });
    this.log.debug({ topic, partition, transactionalId, committedOffset }, 'transactional producer ready');
    return { committedOffset };
  }

  async commit(topic: string, partition: number, nextOffset: string, outputs: BatchOutputs): Promise<void> {
    const p = this.producers.get(tpKey(topic, partition));
    if (!p) throw new Error(`no producer for ${topic}/${partition}: begin() was not called`);
    p.busy = true;
    const ev = this.opts.events;
    const tx = await p.producer.transaction();
    try {
      let t = performance.now();
      for (const send of outputSends(this.opts.topics, outputs, this.limits)) await tx.send(send);
      ev?.onStage?.('send', seconds(t));
      t = performance.now();
      await tx.sendOffsets({
        groupId: this.opts.groupId,
        offsets: [{ topic, partition, offset: nextOffset }],
      });
      ev?.onStage?.('send_offsets', seconds(t));
      t = performance.now();
      await tx.commit();
      ev?.onStage?.('commit', seconds(t));
      ev?.onTransaction?.('committed');
    } catch (err) {
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      this.opts.events?.onTransaction?.('aborted');
      throw err;
    } finally {
      p.busy = false;
    }
  }

  async fail(topic: string, partition: number, err: unknown): Promise<void> {
    const key = tpKey(topic, partition);
    if (this.opts.kafka.isFencingError(err)) {
      this.fenced.add(key);
      this.opts.events?.onFenced?.(topic, partition);
      this.log.warn({ topic, partition }, 'producer fenced: another scorer owns this partition now');
    }
    // Drop the producer whatever the error: a commit may have succeeded without us hearing about it, and
    // only a fresh InitProducerId followed by a committed-offset read tells for sure.
    const p = this.producers.get(key);
    this.producers.delete(key);
    if (p) await p.producer.close().catch(() => undefined);
  }

  async onAssignment(assignment: Record<string, number[]>): Promise<void> {
    this.fenced.clear();
    const owned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const p of partitions) owned.add(tpKey(topic, p));
    }
    const released: Promise<void>[] = [];
    for (const [key, p] of this.producers) {
      if (owned.has(key) || p.busy) continue;
      this.producers.delete(key);
      this.log.debug({ transactionalId: p.transactionalId }, 'partition revoked: closing its producer');
      released.push(p.producer.close().catch(() => undefined));
    }
    await Promise.all(released);
  }

  async close(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(all.map((p) => p.producer.close().catch(() => undefined)));
  }

  private async committedOffset(topic: string, partition: number): Promise<string | null> {
    const offsets = await this.opts.admin.committedOffsets(this.opts.groupId, topic);
    return offsets.get(partition) ?? null;
  }
}

export class AtLeastOnceDelivery implements Delivery {
  readonly mode = 'at-least-once' as const;
  private readonly producer: Producer;
  private readonly limits: TopicSizeLimits;

  constructor(private readonly opts: AtLeastOnceOptions) {
    this.limits = opts.limits ?? new TopicSizeLimits();
    this.producer = opts.kafka.producer();
  }

  async begin(): Promise<Begin> {
    return {};
  }

  async commit(topic: string, partition: number, nextOffset: string, outputs: BatchOutputs): Promise<void> {
    const ev = this.opts.events;
    let t = performance.now();
    for (const send of outputSends(this.opts.topics, outputs, this.limits)) await this.producer.send(send);
    ev?.onStage?.('send', seconds(t));
    t = performance.now();
    await this.opts.consumer.commitOffsets([{ topic, partition, offset: nextOffset }]);
    ev?.onStage?.('commit', seconds(t));
  }

  async fail(): Promise<void> {}

  async onAssignment(): Promise<void> {}

  async close(): Promise<void> {
    await this.producer.close().catch(() => undefined);
  }
}

/** What is left of a range of records after what a previous owner of the partition already committed. */
export type Unclaimed<R> =
  | { kind: 'records'; records: readonly R[] }
  /** The whole range was committed: nothing to do. */
  | { kind: 'done' }
  /** The previous owner committed past the whole fetched batch: seek there. */
  | { kind: 'seek'; offset: string };

/**
 * Applies `Begin.committedOffset` (the group's committed offset, read right after the partition's
 * producer was initialised) to a range of records that ends before `nextOffset`, in a fetched batch
 * whose last offset is `batchLast`: records below the committed offset are skipped.
 */
export function unclaimedRecords<R extends { offset: string }>(
  begin: Begin,
  records: readonly R[],
  nextOffset: string,
  batchLast: string,
): Unclaimed<R> {
  if (begin.committedOffset === undefined || begin.committedOffset === null)
    return { kind: 'records', records };
  const committed = BigInt(begin.committedOffset);
  if (committed > BigInt(batchLast)) return { kind: 'seek', offset: begin.committedOffset };
  if (committed >= BigInt(nextOffset)) return { kind: 'done' };
  if (committed > BigInt(records[0]!.offset)) {
    return { kind: 'records', records: records.filter((m) => BigInt(m.offset) >= committed) };
  }
  return { kind: 'records', records };
}
