/**
 * Exactly-once with one transaction per group member (`transactionScope: member`) instead of one per
 * input partition: the batches of all the member's partitions that are ready together go out in one
 * transaction (their outputs, then all their offsets, then one commit), on one transactional producer.
 *
 * Why it is safe only with some clients: a zombie (a member that lost its partitions but does not know
 * yet) must not commit. The per-partition design fences it through the transactional id; here the id is
 * the member's, so the fencing comes from the offsets instead: with KIP-447 they carry the member's
 * group generation, and the broker refuses (and the client aborts) a transaction whose offsets come
 * from an older generation. librdkafka sends the generation; kafkajs cannot (`KafkaPort.offsetsCarryGeneration`).
 *
 * Why it can be faster: a round of four partitions' transactions at once costs more than one transaction
 * of the four (`npx tsx test/bench/tx-scope.bench.ts`), and with fewer transactions a batch waits less for
 * the one before it.
 *
 * How batches meet: `commit()` queues the batch's outputs and offset and resolves when a transaction
 * holding them commits. One transaction runs at a time; batches that arrive meanwhile go together in the
 * next. When a shared transaction fails and is aborted (so nothing of it was committed), each batch is
 * sent again alone: only the partition at fault then sees, say, the broker's refusal of its records and
 * splits its batch (`handle-batch.ts`); the others go through.
 *
 * After any other failure the outcome of the transaction may be unknown (a lost commit response): the
 * producer is closed, and the next `begin()` of each partition opens a fresh one (InitProducerId settles
 * what the old one left open) and reads the group's committed offset, as the per-partition design does.
 *
 * The transactional id is `<prefix>.member.<instanceId>`. With a stable instance id (a StatefulSet pod's
 * name), a restarted scorer aborts what its previous run left open as soon as it is assigned partitions
 * (the producer opens then, not at the first batch: the consumer fetches no batch while the group's
 * offsets are held by an open transaction); with the default, a random id per start, a transaction left
 * open by a crash holds back read_committed readers of the outputs (and the partitions' next owner) until
 * the transaction timeout.
 */
import { randomUUID } from 'node:crypto';
import type { PartitionOffset, Transaction, TransactionalProducer } from '../../shared/kafka/port.js';
import { TopicSizeLimits } from '../../shared/kafka/record-size.js';
import type { Logger } from '../../shared/log.js';
import {
  outputSends,
  type Begin,
  type BatchOutputs,
  type Delivery,
  type ExactlyOnceOptions,
} from './delivery.js';

/** The per-partition design's options (the prefix, timeout and retry of the transactional producer), and: */
export interface MemberDeliveryOptions extends ExactlyOnceOptions {
  /** A stable, unique name of this scorer instance; random per start when absent. */
  instanceId?: string;
}

/** A batch waiting for its transaction. */
interface Pending {
  offset: PartitionOffset;
  outputs: BatchOutputs;
  resolve(): void;
  reject(err: unknown): void;
}

const seconds = (since: number): number => (performance.now() - since) / 1000;
const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class MemberDelivery implements Delivery {
  readonly mode = 'exactly-once' as const;
  readonly transactionalId: string;
  private readonly log: Logger;
  private readonly limits: TopicSizeLimits;
  /** The producer, opening or open; null after a failure until the next `begin()`. */
  private producer: Promise<TransactionalProducer> | null = null;
  /** The last producer's close, which the next open waits for. */
  private closing: Promise<void> = Promise.resolve();
  /** Partitions whose committed offset was read since the producer was opened. */
  private readonly checked = new Set<string>();
  private queue: Pending[] = [];
  private draining: Promise<void> | null = null;

  constructor(private readonly opts: MemberDeliveryOptions) {
    this.transactionalId = `${opts.transactionalIdPrefix}.member.${opts.instanceId ?? randomUUID()}`;
    this.log = opts.logger.child({ component: 'delivery', mode: this.mode, scope: 'member' });
    this.limits = opts.limits ?? new TopicSizeLimits();
  }

  async begin(topic: string, partition: number): Promise<Begin> {
    const opening = this.open();
    await opening;
    const key = tpKey(topic, partition);
    if (this.checked.has(key)) return {};
    // As in the per-partition design: only once the producer is open can nothing left open by an
    // earlier run still commit; what the group has committed then is final.
    const offsets = await this.opts.admin.committedOffsets(this.opts.groupId, topic);
    if (this.producer === opening) this.checked.add(key);
    return { committedOffset: offsets.get(partition) ?? null };
  }

  commit(topic: string, partition: number, nextOffset: string, outputs: BatchOutputs): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ offset: { topic, partition, offset: nextOffset }, outputs, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  async fail(topic: string, partition: number, err: unknown): Promise<void> {
    if (this.opts.kafka.isFencingError(err)) {
      this.opts.events?.onFenced?.(topic, partition);
      this.log.error(
        { transactionalId: this.transactionalId },
        'producer fenced: another scorer uses the same transactional id (instance ids must be unique)',
      );
    }
  }

  async onAssignment(assignment: Record<string, number[]>): Promise<void> {
    const owned = new Set(
      Object.entries(assignment).flatMap(([topic, ps]) => ps.map((p) => tpKey(topic, p))),
    );
    for (const key of this.checked) if (!owned.has(key)) this.checked.delete(key);
    // Open now rather than at the first batch: a transaction our previous run left open holds the group's
    // offsets unstable, and the consumer (KIP-447: it fetches only stable offsets) waits for them before
    // any batch comes; opening the producer under the same id aborts that transaction.
    await this.open().catch((err: unknown) =>
      this.log.warn({ err }, 'opening the transactional producer failed; the first batch tries again'),
    );
  }

  async close(): Promise<void> {
    await this.draining;
    await this.reset();
    await this.closing;
  }

  private open(): Promise<TransactionalProducer> {
    if (this.producer !== null) return this.producer;
    const opening = (async () => {
      await this.closing;
      const producer = this.opts.kafka.transactionalProducer({
        transactionalId: this.transactionalId,
        transactionTimeoutMs: this.opts.transactionTimeoutMs ?? 60_000,
        ...(this.opts.retry ? { retry: this.opts.retry } : {}),
      });
      try {
        await producer.open();
      } catch (err) {
        await producer.close().catch(() => undefined);
        throw err;
      }
      this.checked.clear();
      this.log.debug({ transactionalId: this.transactionalId }, 'transactional producer ready');
      return producer;
    })();
    this.producer = opening;
    opening.catch(() => {
      if (this.producer === opening) this.producer = null;
    });
    return opening;
  }

  /** Drops the producer (its transaction's outcome may be unknown); the next `begin()` opens another. */
  private async reset(): Promise<void> {
    const previous = this.producer;
    this.producer = null;
    if (previous === null) return;
    this.closing = previous.then(
      (p) => p.close().catch(() => undefined),
      () => undefined,
    );
    await this.closing;
  }

  /**
   * Runs transactions until no batch waits; batches that arrive during one go in the next. `draining` is
   * cleared in the same step that finds the queue empty, so a batch queued later always starts a drain.
   */
  private async drain(): Promise<void> {
    try {
      // Handlers of other partitions finishing at the same moment join this transaction.
      await new Promise((r) => setImmediate(r));
      while (this.queue.length > 0) {
        const batches = this.queue;
        this.queue = [];
        await this.deliver(batches);
      }
    } finally {
      this.draining = null;
    }
  }

  private async deliver(batches: Pending[]): Promise<void> {
    const failed = await this.transaction(batches);
    if (failed === null) {
      for (const b of batches) b.resolve();
    } else if (failed.aborted && batches.length > 1) {
      // Nothing of it was committed, and the error may be another batch's (librdkafka fails the records
      // it purges, when one is refused, with a purge error of their own): each batch alone tells.
      for (const b of batches) await this.deliver([b]);
    } else {
      for (const b of batches) b.reject(failed.err);
    }
  }

  /**
   * One transaction: every batch's outputs, then their offsets, then the commit. Null when it committed;
   * else its error, and whether it was aborted (so certainly not committed); the producer is then
   * dropped, and the next transaction opens another (InitProducerId settles what this one left).
   */
  private async transaction(batches: readonly Pending[]): Promise<{ err: unknown; aborted: boolean } | null> {
    let tx: Transaction;
    try {
      tx = await (await this.open()).transaction();
    } catch (err) {
      return { err, aborted: true }; // nothing was sent
    }
    const ev = this.opts.events;
    try {
      let t = performance.now();
      for (const send of outputSends(this.opts.topics, mergeOutputs(batches), this.limits))
        await tx.send(send);
      ev?.onStage?.('send', seconds(t));
      t = performance.now();
      await tx.sendOffsets({ groupId: this.opts.groupId, offsets: batches.map((b) => b.offset) });
      ev?.onStage?.('send_offsets', seconds(t));
      t = performance.now();
      await tx.commit();
      ev?.onStage?.('commit', seconds(t));
      ev?.onTransaction?.('committed');
      return null;
    } catch (err) {
      const aborted = tx.isActive()
        ? await tx.abort().then(
            () => true,
            () => false,
          )
        : false;
      ev?.onTransaction?.('aborted');
      // A fresh producer either way: unless aborted the outcome is unknown, and after an abort librdkafka
      // may still fail the next transaction's records with the purge of this one's.
      await this.reset();
      return { err, aborted };
    }
  }
}

function mergeOutputs(batches: readonly Pending[]): BatchOutputs {
  if (batches.length === 1) return batches[0]!.outputs;
  return {
    flags: batches.flatMap((b) => b.outputs.flags),
    deadLetters: batches.flatMap((b) => b.outputs.deadLetters),
    scores: batches.flatMap((b) => b.outputs.scores),
  };
}
