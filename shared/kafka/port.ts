/**
 * The Kafka port: the little the project needs of a Kafka client, with no client library's types in it.
 * Everything outside `shared/kafka/` talks to Kafka through it (`ports.ts` builds one). `kafkajs-adapter.ts`
 * implements it on kafkajs and holds everything that is specific to that client (its retry policy, the
 * explicit partitioner, how a transactional id is taken over, how offsets and topic configurations are
 * read, the committed-records reader); `confluent-adapter.ts` implements it on librdkafka.
 *
 * Shapes: offsets are decimal strings (64-bit), byte fields are Buffers, headers a record of values.
 */
import type { Logger } from '../log.js';
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
  /** The next fetch of the partition starts at `offset` (once assigned, when it is not yet); after `run`. */
  seek(s: { topic: string; partition: number; offset: string }): void;
  /** Commits offsets outside a transaction (at-least-once). */
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  /** Stops fetching and waits for the batches in flight. */
  stop(): Promise<void>;
  /** Leaves the group. */
  disconnect(): Promise<void>;
}

/** The next offset of an input partition, as a consumer group commits it. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface Transaction {
  send(records: readonly TopicRecords[]): Promise<void>;
  /** Adds the consumer group's next offsets of input partitions to the transaction (one request). */
  sendOffsets(o: { groupId: string; offsets: readonly PartitionOffset[] }): Promise<void>;
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

/** Where the records one send wrote to a partition begin (they follow each other from there). */
export interface SentOffsets {
  topic: string;
  partition: number;
  baseOffset: string;
}

export interface Producer {
  /** Connects now (optional: the first send connects otherwise, and a failed connect is tried again). */
  connect(): Promise<void>;
  /** Idempotent, acknowledged by all in-sync replicas; records without a partition go by key hash. */
  send(records: readonly TopicRecords[]): Promise<SentOffsets[]>;
  close(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  configEntries?: { name: string; value: string }[];
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Existing topics that differ from their spec (fewer partitions, another cleanup policy). */
  mismatches: { topic: string; issue: string }[];
}

/** A partition's first offset and its last stable offset (the end a read_committed reader sees). */
export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The group's committed offset per partition of `topic` (absent: nothing committed). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, string>>;
  /** `max.message.bytes` of each topic whose configuration could be read. */
  maxMessageBytes(topics: readonly string[]): Promise<Map<string, number>>;
  listTopics(): Promise<string[]>;
  /**
   * Creates the topics of `specs` that do not exist (waiting for their leaders; one created meanwhile by
   * another caller counts as present) and checks the others, never altering them (`topics.ts`).
   */
  ensureTopics(specs: readonly TopicSpec[], logger?: Logger): Promise<EnsureTopicsResult>;
  /** Every partition of `topic`, in no particular order. */
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  deleteGroups(groupIds: readonly string[]): Promise<void>;
}

export interface TransactionalOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
  /** First retry delay and the cap (ms); the adapter's defaults when absent. */
  retry?: { initialRetryTimeMs: number; maxRetryTimeMs: number };
}

export interface CommittedReaderOptions {
  groupId: string;
  topics: string[];
  /** For a group with no committed offset: start at the topics' beginning (else their end). */
  fromBeginning: boolean;
  /** Commit the group's offsets after each batch, never past an open transaction (default true). */
  commit?: boolean;
  /**
   * Append flush records (key `FLUSH_KEY`, no value) behind commit markers a fetch skipped, so committed
   * records of a quiet partition are not held until its next record (default true; needs write access).
   */
  flush?: boolean;
  /** Longest wait of a fetch for data (ms); the adapter's default when absent. */
  maxWaitTimeMs?: number;
  /** Partitions handled at once (default 1). */
  concurrency?: number;
  logger?: Logger;
  /**
   * Receives the records of committed transactions (and non-transactional ones) of one partition, in
   * the order their commits release them, flush records left out. Records after the last committed
   * offset may come again after a restart or a rebalance: de-duplicate by position.
   */
  onRecords(topic: string, partition: number, records: readonly InRecord[]): Promise<void>;
}

/** A consumer group member that sees only records of committed transactions. */
export interface CommittedReader {
  /** Records of open transactions held back, over all topics. */
  readonly pending: number;
  connect(): Promise<void>;
  /** Subscribes and starts reading (after `connect`). */
  run(): Promise<void>;
  /** Leaves the group and closes what the reader opened. */
  disconnect(): Promise<void>;
}

export interface KafkaPort {
  groupConsumer(opts: GroupConsumerOptions, events?: GroupConsumerEvents): GroupConsumer;
  /** A reader of transactional topics (the scorer's outputs) that passes only committed records. */
  committedReader(opts: CommittedReaderOptions, events?: GroupConsumerEvents): CommittedReader;
  transactionalProducer(opts: TransactionalOptions): TransactionalProducer;
  producer(): Producer;
  admin(): KafkaAdmin;
  /**
   * True when a transaction's offsets carry the group member's generation (KIP-447), so the broker
   * refuses a member that lost its partitions: one transactional id can then serve all of a member's
   * partitions. Else fencing needs one transactional id per input partition (`services/scorer/delivery.ts`).
   */
  readonly offsetsCarryGeneration: boolean;
  /** The transactional id was taken over by another producer (this one is a zombie). */
  isFencingError(err: unknown): boolean;
  /** The broker refused the records themselves (size, content): sending them again fails again. */
  isRecordRejection(err: unknown): boolean;
}
