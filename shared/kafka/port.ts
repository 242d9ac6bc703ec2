/**
 * The Kafka port: the little the scorer needs of a Kafka client, with no client library's types in it.
 * `kafkajs-adapter.ts` implements it on kafkajs and holds everything that is specific to that client
 * (its retry policy, the explicit partitioner, how a transactional id is taken over, how offsets and
 * topic configurations are read). Another client (librdkafka) would be a second adapter.
 *
 * Shapes: offsets are decimal strings (64-bit), byte fields are Buffers, headers a record of values.
 */
import type { Headers } from '../scoring/messages.js';

/** A record to produce. */
export interface OutRecord {
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: Headers;
  partition?: number;
}

export interface TopicRecords {
  topic: string;
  records: readonly OutRecord[];
}

/** A consumed record. */
export interface InRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch as a decimal string. */
  timestamp: string;
  headers: Headers;
}

/** The records of one partition fetched together. */
export interface InBatch {
  topic: string;
  partition: number;
  /** Data records in offset order (never control records or records of aborted transactions). */
  records: readonly InRecord[];
  /** The offset to commit once the whole batch is processed (past any trailing control record). */
  nextOffset: string;
  /** Records between the batch's end and the partition's high watermark when it was fetched. */
  lag(): number;
}

/** What a batch handler may do while it holds a batch. */
export interface BatchControl {
  /** Records up to and including `offset` are processed; the next fetch starts after them. */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True when the partition was revoked or sought while the batch was handled. */
  isStale(): boolean;
  /** The next fetch of this batch's partition starts at `offset`. */
  seek(offset: string): void;
}

export interface GroupConsumerOptions {
  groupId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Bytes per partition and in total per fetch (bound the memory batches hold). */
  maxBytesPerPartition: number;
  maxBytes: number;
  maxWaitTimeMs: number;
  /** Only records of committed transactions. */
  readCommitted: boolean;
}

export interface GroupConsumerEvents {
  /** The group assigned this member these partitions. */
  onAssignment?(assignment: Record<string, number[]>): void;
  /** The consumer crashed; `restart` tells whether it restarts by itself. */
  onCrash?(error: Error, restart: boolean): void;
  onStop?(): void;
}

export interface RunOptions {
  topics: string[];
  fromBeginning: boolean;
  /** Partitions handled at once. */
  concurrency: number;
  /**
   * Handles one batch. Resolving without resolving every offset leaves the rest to be fetched again;
   * throwing re-delivers the batch from the last resolved offset (the consumer retries, then restarts).
   */
  eachBatch(batch: InBatch, control: BatchControl): Promise<void>;
}

export interface GroupConsumer {
  connect(): Promise<void>;
  run(opts: RunOptions): Promise<void>;
  /** Commits offsets outside a transaction (at-least-once). */
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  /** Stops fetching and waits for the batches in flight. */
  stop(): Promise<void>;
  /** Leaves the group. */
  disconnect(): Promise<void>;
}

export interface Transaction {
  send(records: readonly TopicRecords[]): Promise<void>;
  /** Adds the consumer group's next offset for an input partition to the transaction. */
  sendOffsets(o: { groupId: string; topic: string; partition: number; offset: string }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

export interface TransactionalProducer {
  readonly transactionalId: string;
  /**
   * Connects and takes over the transactional id: the broker bumps its epoch, which fences any other
   * holder and completes (aborts) that holder's open transaction before answering.
   */
  open(): Promise<void>;
  transaction(): Promise<Transaction>;
  close(): Promise<void>;
}

export interface Producer {
  /** Idempotent, acknowledged by all in-sync replicas. */
  send(records: readonly TopicRecords[]): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The group's committed offset per partition of `topic` (absent: nothing committed). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, string>>;
  /** `max.message.bytes` of each topic whose configuration could be read. */
  maxMessageBytes(topics: readonly string[]): Promise<Map<string, number>>;
}

export interface TransactionalOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
  /** First retry delay and the cap (ms); the adapter's defaults when absent. */
  retry?: { initialRetryTimeMs: number; maxRetryTimeMs: number };
}

export interface KafkaPort {
  groupConsumer(opts: GroupConsumerOptions, events?: GroupConsumerEvents): GroupConsumer;
  transactionalProducer(opts: TransactionalOptions): TransactionalProducer;
  producer(): Producer;
  admin(): KafkaAdmin;
  /** The transactional id was taken over by another producer (this one is a zombie). */
  isFencingError(err: unknown): boolean;
  /** The broker refused the records themselves (size, content): sending them again fails again. */
  isRecordRejection(err: unknown): boolean;
}
