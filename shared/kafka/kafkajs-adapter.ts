/**
 * The Kafka port (`port.ts`) on kafkajs 2.x. Everything kafkajs-specific the scorer relies on lives here:
 *
 * - Producers name their partitioner (kafkajs warns at every start otherwise): kafkajs's default with a
 *   32-bit murmur2 (`partitioner.ts`), the same partitions at a fraction of the cost. The transactional ones
 *   retry soon: right after a commit the next transaction's first request often meets
 *   CONCURRENT_TRANSACTIONS while the broker writes the markers (a few ms), and kafkajs's default first
 *   retry waits 300 ms and doubles (its `retry/defaults.js`). The Java client retries that after 20 ms
 *   (KAFKA-5477). Retries stay unlimited, kafkajs's default for idempotent producers (fewer would void
 *   its guarantees). `test/bench/tx-retry.bench.ts` measures both policies.
 * - kafkajs initialises a transactional id on the first `transaction()`, not on `connect()`: `open()`
 *   begins and aborts an empty transaction, which costs no request beyond InitProducerId.
 * - A handler's failure is wrapped so kafkajs always retries the batch and restarts the consumer when
 *   retries run out, instead of stopping for good on a non-retriable protocol error; group changes
 *   (rebalance, unknown member) pass through so kafkajs re-joins.
 * - Error kinds: fencing (the transactional id was taken over), records refused by the broker (size,
 *   content), group changes.
 *
 * - kafkajs's own read_committed filter can pass records of aborted transactions when several
 *   transactional producers write one partition: `committedReader` reads uncommitted and filters by the
 *   control records itself (`committed-reader.ts`, `read-committed.ts`).
 * - The admin (`kafkajs-admin.ts`) also serves the librdkafka adapter for topic administration.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { createCommittedReader } from './committed-reader.js';
import { kafkajsAdmin } from './kafkajs-admin.js';
import type {
  GroupConsumer,
  GroupConsumerEvents,
  GroupConsumerOptions,
  KafkaPort,
  Producer,
  RunOptions,
  Transaction,
  TransactionalOptions,
  TransactionalProducer,
} from './port.js';
import { lazyProducer, offsetsByTopic, toControl, toInBatch, toTransaction } from './kafkajs-shapes.js';
import { DefaultPartitioner } from './partitioner.js';

/** The transactional producers' retry policy unless configured. */
export const DEFAULT_TRANSACTIONAL_RETRY = { initialRetryTimeMs: 5, maxRetryTimeMs: 1000 };

export function kafkajsPort(kafka: Kafka): KafkaPort {
  return {
    groupConsumer: (opts, events) => groupConsumer(kafka, opts, events),
    committedReader: (opts, events) => createCommittedReader(kafka, opts, events),
    transactionalProducer: (opts) => transactionalProducer(kafka, opts),
    producer: () => idempotentProducer(kafka),
    admin: () => kafkajsAdmin(kafka.admin()),
    // TxnOffsetCommit v0–v1: the offsets carry the group id only.
    offsetsCarryGeneration: false,
    isFencingError,
    isRecordRejection,
  };
}

/** True for the errors a broker returns to a producer whose transactional id was taken over. */
export function isFencingError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { type?: string; code?: number; name?: string };
    if (
      x.type === 'INVALID_PRODUCER_EPOCH' ||
      x.type === 'PRODUCER_FENCED' ||
      x.code === 90 ||
      x.code === 47
    ) {
      return true;
    }
    if (x.name === 'KafkaJSNonRetriableError' && /fenced|epoch/i.test(String((e as Error).message)))
      return true;
  }
  return false;
}

/** True for broker errors about the records sent (their size or content), not about the broker or the client. */
export function isRecordRejection(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const type = (e as { type?: string }).type;
    if (
      type === 'MESSAGE_TOO_LARGE' ||
      type === 'RECORD_LIST_TOO_LARGE' ||
      type === 'INVALID_RECORD' ||
      type === 'CORRUPT_MESSAGE' ||
      type === 'INVALID_TIMESTAMP'
    ) {
      return true;
    }
  }
  return false;
}

/** kafkajs re-joins the group on these instead of retrying: they pass through unwrapped. */
function isGroupChange(err: unknown): boolean {
  const type = (err as { type?: string })?.type;
  return (
    type === 'REBALANCE_IN_PROGRESS' ||
    type === 'NOT_COORDINATOR_FOR_GROUP' ||
    type === 'ILLEGAL_GENERATION' ||
    type === 'UNKNOWN_MEMBER_ID'
  );
}

/**
 * Wraps a batch failure so kafkajs always retries it (re-fetching from the last resolved position) and
 * restarts the consumer when retries run out. The original is kept as `original`, not `cause`: kafkajs
 * follows `cause` to decide on restarts.
 */
class BatchFailedError extends Error {
  readonly retriable = true;
  constructor(readonly original: unknown) {
    super(`batch failed: ${(original as Error)?.message ?? String(original)}`);
    this.name = 'BatchFailedError';
  }
}

function groupConsumer(
  kafka: Kafka,
  o: GroupConsumerOptions,
  events: GroupConsumerEvents = {},
): GroupConsumer {
  const consumer: Consumer = kafka.consumer({
    groupId: o.groupId,
    sessionTimeout: o.sessionTimeoutMs,
    heartbeatInterval: o.heartbeatIntervalMs,
    maxBytesPerPartition: o.maxBytesPerPartition,
    maxBytes: o.maxBytes,
    maxWaitTimeInMs: o.maxWaitTimeMs,
    readUncommitted: !o.readCommitted,
    allowAutoTopicCreation: false,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: async () => true },
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => events.onAssignment?.(e.payload.memberAssignment));
  consumer.on(consumer.events.CRASH, (e) => events.onCrash?.(e.payload.error, e.payload.restart));
  consumer.on(consumer.events.STOP, () => events.onStop?.());

  async function handle(run: RunOptions, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty()) return;
    const { topic, partition } = batch;
    const inBatch = toInBatch(batch);
    const control = toControl(payload, (offset) => consumer.seek({ topic, partition, offset }));
    try {
      await run.eachBatch(inBatch, control);
    } catch (err) {
      throw isGroupChange(err) ? err : new BatchFailedError(err);
    }
  }

  return {
    connect: () => consumer.connect(),
    async run(run) {
      await consumer.subscribe({ topics: run.topics, fromBeginning: run.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: run.concurrency,
        eachBatch: (payload) => handle(run, payload),
      });
    },
    seek: (s) => consumer.seek(s),
    commitOffsets: (offsets) => consumer.commitOffsets(offsets),
    stop: () => consumer.stop(),
    disconnect: () => consumer.disconnect(),
  };
}

function transactionalProducer(kafka: Kafka, o: TransactionalOptions): TransactionalProducer {
  const retry = o.retry ?? DEFAULT_TRANSACTIONAL_RETRY;
  const producer = kafka.producer({
    transactionalId: o.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: o.transactionTimeoutMs,
    allowAutoTopicCreation: false,
    createPartitioner: DefaultPartitioner,
    retry: {
      initialRetryTime: retry.initialRetryTimeMs,
      maxRetryTime: retry.maxRetryTimeMs,
      multiplier: 1.5,
      retries: Number.MAX_SAFE_INTEGER,
    },
  });
  return {
    transactionalId: o.transactionalId,
    async open() {
      await producer.connect();
      try {
        // InitProducerId happens on the first transaction(); ending the empty one sends nothing.
        const fence = await producer.transaction();
        await fence.abort();
      } catch (err) {
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
    },
    async transaction(): Promise<Transaction> {
      const tx = await producer.transaction();
      return toTransaction(
        tx,
        (s) => tx.sendOffsets({ consumerGroupId: s.groupId, topics: offsetsByTopic(s.offsets) }),
        -1,
      );
    },
    close: () => producer.disconnect(),
  };
}

function idempotentProducer(kafka: Kafka): Producer {
  return lazyProducer(
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: DefaultPartitioner,
    }),
    -1,
  );
}
