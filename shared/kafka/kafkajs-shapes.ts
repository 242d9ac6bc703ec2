/**
 * What the two adapters share: both clients speak the KafkaJS shapes (kafkajs itself, and librdkafka
 * through @confluentinc/kafka-javascript's KafkaJS-like API), so turning their batches, offsets and
 * producers into the port's types is written once, here, against those shapes.
 */
import type { Headers } from '../scoring/messages.js';
import type {
  BatchControl,
  InBatch,
  OutRecord,
  PartitionOffset,
  Producer,
  SentOffsets,
  TopicRecords,
  Transaction,
} from './port.js';

/** A fetched batch as both clients hand it to `eachBatch`. */
export interface KafkaJsBatch {
  topic: string;
  partition: number;
  messages: {
    offset: string;
    key?: Buffer | null;
    value: Buffer | null;
    timestamp: string;
    headers?: unknown;
  }[];
  lastOffset(): string;
  offsetLag(): string;
}

/** The port's view of a non-empty batch. */
export function toInBatch(batch: KafkaJsBatch): InBatch {
  return {
    topic: batch.topic,
    partition: batch.partition,
    records: batch.messages.map((m) => ({
      offset: m.offset,
      key: m.key ?? null,
      value: m.value ?? null,
      timestamp: m.timestamp,
      headers: (m.headers ?? {}) as Headers,
    })),
    nextOffset: (BigInt(batch.lastOffset()) + 1n).toString(),
    lag: () => Number(batch.offsetLag()),
  };
}

/** What both clients pass `eachBatch` besides the batch. */
export interface KafkaJsBatchPayload {
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

/** The port's control over the batch being handled; `seek` moves the partition's next fetch. */
export function toControl(payload: KafkaJsBatchPayload, seek: (offset: string) => void): BatchControl {
  return {
    resolveOffset: (offset) => payload.resolveOffset(offset),
    heartbeat: () => payload.heartbeat(),
    isRunning: () => payload.isRunning(),
    isStale: () => payload.isStale(),
    seek,
  };
}

export interface KafkaJsTopicMessages {
  topic: string;
  messages: OutRecord[];
}

/** The port's records per topic as `sendBatch` takes them (empty topics dropped). */
export function toTopicMessages(records: readonly TopicRecords[]): KafkaJsTopicMessages[] {
  // The clients do not modify the records: the port's read-only array is passed as it is.
  return records
    .filter((r) => r.records.length > 0)
    .map((r) => ({ topic: r.topic, messages: r.records as OutRecord[] }));
}

interface KafkaJsTransaction {
  sendBatch(b: { topicMessages: KafkaJsTopicMessages[]; acks?: number }): Promise<unknown>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

/** Offsets as both clients' `sendOffsets` take them: grouped by topic. */
export function offsetsByTopic(
  offsets: readonly PartitionOffset[],
): { topic: string; partitions: { partition: number; offset: string }[] }[] {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) {
    let partitions = byTopic.get(o.topic);
    if (partitions === undefined) byTopic.set(o.topic, (partitions = []));
    partitions.push({ partition: o.partition, offset: o.offset });
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

/** A client transaction as the port's; `sendOffsets` is where the clients differ. */
export function toTransaction(
  tx: KafkaJsTransaction,
  sendOffsets: Transaction['sendOffsets'],
  acks?: number,
): Transaction {
  return {
    async send(records) {
      const topicMessages = toTopicMessages(records);
      if (topicMessages.length > 0) {
        await tx.sendBatch({ topicMessages, ...(acks !== undefined ? { acks } : {}) });
      }
    },
    sendOffsets,
    commit: () => tx.commit(),
    abort: () => tx.abort(),
    isActive: () => tx.isActive(),
  };
}

/** What both clients' `send` and `sendBatch` answer: per topic-partition, where the records begin. */
export interface KafkaJsRecordMetadata {
  topicName: string;
  partition: number;
  baseOffset?: string;
}

/** The port's view of a send's answer (`-1` where the client reported no offset). */
export function toSentOffsets(meta: readonly KafkaJsRecordMetadata[]): SentOffsets[] {
  return meta.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: m.baseOffset ?? '-1' }));
}

/** A producer that connects on its first send (and again after a failed connect). */
export function lazyProducer(
  producer: {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    sendBatch(b: { topicMessages: KafkaJsTopicMessages[]; acks?: number }): Promise<KafkaJsRecordMetadata[]>;
  },
  acks?: number,
): Producer {
  let connected: Promise<void> | null = null;
  const connect = (): Promise<void> =>
    (connected ??= producer.connect().catch((err: unknown) => {
      connected = null;
      throw err;
    }));
  return {
    connect,
    async send(records) {
      await connect();
      const topicMessages = toTopicMessages(records);
      if (topicMessages.length === 0) return [];
      return toSentOffsets(
        await producer.sendBatch({ topicMessages, ...(acks !== undefined ? { acks } : {}) }),
      );
    },
    async close() {
      if (connected) await producer.disconnect();
      connected = null;
    },
  };
}

/** A group's committed offsets of `topic` from a `fetchOffsets` answer (no entry: nothing committed). */
export function committedOffsetsOf(
  res: { topic: string; partitions: { partition: number; offset: string }[] }[],
  topic: string,
): Map<number, string> {
  const out = new Map<number, string>();
  for (const p of res.find((t) => t.topic === topic)?.partitions ?? []) {
    if (p.offset !== '-1' && p.offset !== '') out.set(p.partition, p.offset);
  }
  return out;
}
