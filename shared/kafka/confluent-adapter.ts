/**
 * The Kafka port (`port.ts`) on `@confluentinc/kafka-javascript` (librdkafka), through its KafkaJS-like
 * API. An optional dependency that npm leaves out (its install script is not approved):
 * `npm run setup:librdkafka` (tools/infra/librdkafka.sh) installs it and builds librdkafka from source, about
 * 2 minutes on 2 cores; `confluentPort` says so when it is missing. What is specific to this client lives
 * here:
 *
 * - librdkafka retries transactional requests itself (CONCURRENT_TRANSACTIONS after a commit included),
 *   batches produce requests per broker, and runs the group heartbeat on its own thread: no retry policy
 *   to set, and `heartbeat()` is a no-op.
 * - `sendOffsets` takes the consumer itself, not a group id (librdkafka sends the group's generation with
 *   the offsets, KIP-447): the port keeps the consumer it built for each group id.
 * - Batches come from librdkafka's local queue (`js.consumer.max.batch.size`, unlimited here): what has
 *   arrived for a partition, bounded by the fetch sizes.
 * - The transactional id is initialised on `connect()` (InitTransactions): `open()` is just that.
 * - Error kinds by librdkafka's codes: fencing (PRODUCER_FENCED 90, INVALID_PRODUCER_EPOCH 47, its local
 *   `_FENCED` −144), records refused (MSG_SIZE_TOO_LARGE 10, RECORD_LIST_TOO_LARGE 18, INVALID_RECORD 87,
 *   CORRUPT_MESSAGE 2, INVALID_TIMESTAMP 32).
 * - What it leaves to the kafkajs port the caller passes (`ports.ts`, same connection):
 *   - topic administration (`maxMessageBytes`, `ensureTopics`, listing, offsets, deletions): librdkafka's
 *     admin client here cannot read topic configurations, and one client for all of it keeps the
 *     topic set-up in one place (`topics.ts`); only `committedOffsets` is read with librdkafka's admin;
 *   - `committedReader`: kafkajs's reader with its own control-record filter. A librdkafka consumer with
 *     isolation.level=read_committed would be correct by itself, but the reader's callers only read the
 *     scorer's outputs (alerts, the CLI, the demo), not its hot path, and one implementation is kept.
 */
import { createRequire } from 'node:module';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { ConfigError } from '../errors.js';
import type { KafkaConnection } from './client.js';
import {
  committedOffsetsOf,
  lazyProducer,
  offsetsByTopic,
  toControl,
  toInBatch,
  toTransaction,
  type KafkaJsBatch,
  type KafkaJsBatchPayload,
  type KafkaJsRecordMetadata,
  type KafkaJsTopicMessages,
} from './kafkajs-shapes.js';
import type {
  GroupConsumer,
  GroupConsumerEvents,
  GroupConsumerOptions,
  KafkaAdmin,
  KafkaPort,
  Producer,
  RunOptions,
  Transaction,
  TransactionalOptions,
  TransactionalProducer,
} from './port.js';

/** The package's name: an optional dependency. */
export const CONFLUENT_PACKAGE = '@confluentinc/kafka-javascript';

// The few shapes used of the package's KafkaJS-like API (its own types need the package installed).
type Config = Record<string, unknown>;
interface CBatch extends KafkaJsBatch {
  isEmpty(): boolean;
}
interface CBatchPayload extends KafkaJsBatchPayload {
  batch: CBatch;
}
interface CConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(r: Config): Promise<void>;
  commitOffsets(o: { topic: string; partition: number; offset: string }[]): Promise<void>;
  seek(s: { topic: string; partition: number; offset: string }): void;
}
interface CProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(b: { topicMessages: KafkaJsTopicMessages[] }): Promise<KafkaJsRecordMetadata[]>;
  transaction(): Promise<CProducer>;
  sendOffsets(o: {
    consumer: CConsumer;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}
interface CAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchOffsets(o: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}
interface CKafka {
  consumer(c: Config): CConsumer;
  producer(c: Config): CProducer;
  admin(c?: Config): CAdmin;
}
interface CModule {
  KafkaJS: { Kafka: new (c: Config) => CKafka; logLevel: Record<string, number> };
}

/** Loads the optional package, or says how to install it. */
function loadPackage(): CModule {
  try {
    return createRequire(import.meta.url)(CONFLUENT_PACKAGE) as CModule;
  } catch (err) {
    throw new ConfigError(
      `KAFKA_CLIENT=confluent needs the optional package ${CONFLUENT_PACKAGE}, which is not installed or not built ` +
        `(${(err as Error).message.split('\n')[0]}); install it with ` +
        '`npm run setup:librdkafka` (builds librdkafka, about 2 minutes), or use KAFKA_CLIENT=kafkajs',
      [{ path: 'KAFKA_CLIENT', message: `${CONFLUENT_PACKAGE} is not installed` }],
    );
  }
}

/** True when the optional package and its native library load here (installed and built). */
export function confluentAvailable(): boolean {
  try {
    loadPackage();
    return true;
  } catch {
    return false;
  }
}

/** librdkafka properties for the connection's TLS and SASL settings. */
export function librdkafkaSecurity(conn: KafkaConnection): Config {
  const out: Config = {};
  const tls = conn.ssl !== undefined && conn.ssl !== false;
  if (conn.sasl !== undefined) {
    const sasl = conn.sasl as { mechanism: string; username?: string; password?: string };
    out['security.protocol'] = tls ? 'sasl_ssl' : 'sasl_plaintext';
    out['sasl.mechanisms'] = sasl.mechanism.toUpperCase();
    if (sasl.username !== undefined) out['sasl.username'] = sasl.username;
    if (sasl.password !== undefined) out['sasl.password'] = sasl.password;
  } else if (tls) {
    out['security.protocol'] = 'ssl';
  }
  if (typeof conn.ssl === 'object') {
    const pem = (v: unknown): string | undefined =>
      v === undefined ? undefined : Array.isArray(v) ? v.map(String).join('\n') : String(v);
    const ca = pem(conn.ssl.ca);
    if (ca !== undefined) out['ssl.ca.pem'] = ca;
    const cert = pem(conn.ssl.cert);
    if (cert !== undefined) out['ssl.certificate.pem'] = cert;
    const key = pem(conn.ssl.key);
    if (key !== undefined) out['ssl.key.pem'] = key;
    if (conn.ssl.rejectUnauthorized === false) out['enable.ssl.certificate.verification'] = false;
  }
  return out;
}

/** librdkafka's log lines through the process's pino logger. */
function pinoLogger(log: Logger): Config {
  const logger = {
    info: (message: string, extra?: object) => log.debug(extra ?? {}, message),
    warn: (message: string, extra?: object) => log.warn(extra ?? {}, message),
    error: (message: string, extra?: object) => log.error(extra ?? {}, message),
    debug: (message: string, extra?: object) => log.trace(extra ?? {}, message),
    namespace: () => logger,
    setLogLevel: () => undefined,
  };
  return logger;
}

export interface ConfluentPortOptions {
  /** A kafkajs port on the same connection, for what this adapter leaves to kafkajs (module comment). */
  kafkajs: KafkaPort;
}

export function confluentPort(
  conn: KafkaConnection,
  logger: Logger = silentLogger,
  opts: ConfluentPortOptions,
): KafkaPort {
  const { KafkaJS } = loadPackage();
  const log = logger.child({ component: 'librdkafka' });
  const kafka = new KafkaJS.Kafka({
    kafkaJS: {
      brokers: conn.brokers,
      clientId: conn.clientId,
      logLevel: KafkaJS.logLevel.WARN,
      logger: pinoLogger(log),
      ...(conn.connectionTimeout !== undefined ? { connectionTimeout: conn.connectionTimeout } : {}),
      ...(conn.requestTimeout !== undefined ? { requestTimeout: conn.requestTimeout } : {}),
    },
    ...librdkafkaSecurity(conn),
  });
  // sendOffsets needs the group's consumer (its generation goes with the offsets).
  const consumers = new Map<string, CConsumer>();
  return {
    groupConsumer: (opts, events) => groupConsumer(kafka, consumers, opts, events),
    committedReader: (o, events) => opts.kafkajs.committedReader(o, events),
    transactionalProducer: (opts) => transactionalProducer(kafka, consumers, opts),
    producer: () => idempotentProducer(kafka),
    admin: () => admin(kafka, opts.kafkajs.admin()),
    offsetsCarryGeneration: true,
    isFencingError,
    isRecordRejection,
  };
}

function codesOf(err: unknown): number[] {
  const out: number[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') out.push(code);
  }
  return out;
}

export function isFencingError(err: unknown): boolean {
  return codesOf(err).some((c) => c === 90 || c === 47 || c === -144);
}

export function isRecordRejection(err: unknown): boolean {
  return codesOf(err).some((c) => c === 10 || c === 87 || c === 2 || c === 32 || c === 18);
}

function groupConsumer(
  kafka: CKafka,
  consumers: Map<string, CConsumer>,
  o: GroupConsumerOptions,
  events: GroupConsumerEvents = {},
): GroupConsumer {
  let fromBeginning = false;
  let consumer: CConsumer | null = null;
  const build = (): CConsumer =>
    kafka.consumer({
      kafkaJS: {
        groupId: o.groupId,
        sessionTimeout: o.sessionTimeoutMs,
        heartbeatInterval: o.heartbeatIntervalMs,
        maxBytesPerPartition: o.maxBytesPerPartition,
        maxBytes: o.maxBytes,
        maxWaitTimeInMs: o.maxWaitTimeMs,
        readUncommitted: !o.readCommitted,
        fromBeginning,
        autoCommit: false,
      },
      'allow.auto.create.topics': false,
      'js.consumer.max.batch.size': -1,
      rebalance_cb: (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
        if (err.code !== -175) return; // ERR__ASSIGN_PARTITIONS; revocations need nothing here
        const byTopic: Record<string, number[]> = {};
        for (const a of assignment) (byTopic[a.topic] ??= []).push(a.partition);
        events.onAssignment?.(byTopic);
      },
    });
  /** Disconnects the running consumer, if any (once); `stopped` tells the events. */
  const release = async (stopped: boolean): Promise<void> => {
    const c = consumer;
    consumer = null;
    if (c === null) return;
    consumers.delete(o.groupId);
    await c.disconnect();
    if (stopped) events.onStop?.();
  };
  const the = (): CConsumer => {
    if (consumer === null) throw new Error(`the consumer of group ${o.groupId} is not running`);
    return consumer;
  };

  async function handle(run: RunOptions, payload: CBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty()) return;
    const { topic, partition } = batch;
    const inBatch = toInBatch(batch);
    // heartbeat() is a no-op here: librdkafka heartbeats on its own thread.
    const control = toControl(payload, (offset) => the().seek({ topic, partition, offset }));
    await run.eachBatch(inBatch, control);
  }

  return {
    // The consumer is built at run(): where a new group starts (fromBeginning) is part of its config here.
    connect: async () => undefined,
    async run(run) {
      fromBeginning = run.fromBeginning;
      consumer = build();
      consumers.set(o.groupId, consumer);
      await consumer.connect();
      await consumer.subscribe({ topics: run.topics });
      await consumer.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: run.concurrency,
        // A batch that throws is fetched again from its last resolved offset (the client seeks back).
        eachBatch: (payload: CBatchPayload) => handle(run, payload),
      });
    },
    // Before the partition is assigned, the client keeps the seek until it is.
    seek: (s) => the().seek(s),
    commitOffsets: (offsets) => the().commitOffsets(offsets),
    // librdkafka's consumer has no stop(): disconnecting waits for the batches in flight.
    stop: () => release(true),
    disconnect: () => release(false),
  };
}

function transactionalProducer(
  kafka: CKafka,
  consumers: Map<string, CConsumer>,
  o: TransactionalOptions,
): TransactionalProducer {
  const producer = kafka.producer({
    kafkaJS: {
      transactionalId: o.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: o.transactionTimeoutMs,
      allowAutoTopicCreation: false,
      acks: -1,
    },
    'linger.ms': 0,
  });
  return {
    transactionalId: o.transactionalId,
    // connect() runs InitTransactions: it bumps the epoch and fences any other holder of the id.
    open: () => producer.connect(),
    async transaction(): Promise<Transaction> {
      const tx = await producer.transaction();
      return toTransaction(tx, async (s) => {
        const consumer = consumers.get(s.groupId);
        if (consumer === undefined) {
          throw new Error(`no running consumer of group ${s.groupId} to send offsets with`);
        }
        await tx.sendOffsets({ consumer, topics: offsetsByTopic(s.offsets) });
      });
    },
    close: () => producer.disconnect(),
  };
}

function idempotentProducer(kafka: CKafka): Producer {
  return lazyProducer(
    kafka.producer({
      kafkaJS: { idempotent: true, allowAutoTopicCreation: false, acks: -1 },
      'linger.ms': 0,
    }),
  );
}

/** Committed offsets from librdkafka's admin; the rest from kafkajs's (`topics`), connected alongside. */
function admin(kafka: CKafka, topics: KafkaAdmin): KafkaAdmin {
  const a = kafka.admin();
  return {
    ...topics,
    connect: async () => {
      await Promise.all([a.connect(), topics.connect()]);
    },
    disconnect: async () => {
      await Promise.all([a.disconnect(), topics.disconnect()]);
    },
    committedOffsets: async (groupId, topic) =>
      committedOffsetsOf(await a.fetchOffsets({ groupId, topics: [topic] }), topic),
  };
}
