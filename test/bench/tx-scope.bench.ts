/**
 * `npx tsx test/bench/tx-scope.bench.ts`: what would one transaction across all of a scorer's partitions
 * save against the scorer's design, one transaction per input partition (`services/scorer/delivery.ts`)?
 * Rounds of transactions as the scorer makes them with four assigned partitions, each transaction: send
 * 8 records a partition to an output topic, add the consumed offsets, commit. Measured per round:
 *
 * - per partition: four transactional producers, one transaction each, at once (the scorer today; a round
 *   lasts as long as its slowest transaction, since kafkajs fetches again only when every partition's
 *   batch is done), with kafkajs and, when built, with librdkafka;
 * - one transaction: one producer, the four partitions' records and offsets in one transaction. Safe only
 *   where the offsets carry the group's generation (KIP-447), so librdkafka only; kafkajs's TxnOffsetCommit
 *   (v0–v1) cannot.
 *
 * Prints p50/p90/p99 of a round per arm. Environment: SMAE_BENCH_ROUNDS (default 200).
 */
import { createRequire } from 'node:module';
import { createKafka, kafkaConnectionFromEnv, type KafkaClientName } from '../../shared/kafka/client.js';
import { confluentAvailable } from '../../shared/kafka/confluent-adapter.js';
import type { OutRecord, TransactionalProducer } from '../../shared/kafka/port.js';
import { createKafkaPort } from '../../shared/kafka/ports.js';
import { percentile } from '../../shared/threshold/percentile.js';

const ROUNDS = Number(process.env.SMAE_BENCH_ROUNDS ?? 200);
const PARTITIONS = [0, 1, 2, 3];
const say = (s: string): void => void process.stdout.write(`${s}\n`);

const conn = kafkaConnectionFromEnv(process.env, { clientId: 'bench-tx-scope' });
const tag = `bench-txs-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
const topics = { input: `${tag}.in`, output: `${tag}.out` };

const records = (partitions: readonly number[]): OutRecord[] =>
  partitions.flatMap((partition) =>
    Array.from({ length: 8 }, () => ({ key: null, partition, value: Buffer.alloc(120) })),
  );

let offset = 0;

/** p50/p90/p99 of `ROUNDS` rounds of `round()`, in ms. */
async function measure(name: string, round: () => Promise<unknown>): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    offset++;
    const t0 = performance.now();
    await round();
    ms.push(performance.now() - t0);
  }
  const q = (p: number) => percentile(ms, p).toFixed(1);
  say(`| ${name} | ${ROUNDS} | ${q(50)} | ${q(90)} | ${q(99)} |`);
}

/**
 * The scorer's design through the project's port (its retry policy and, on librdkafka, the group's
 * consumer for `sendOffsets`): one transactional producer per input partition, the four at once.
 */
async function perPartitionArm(client: KafkaClientName): Promise<void> {
  const port = createKafkaPort({ ...conn, client });
  const groupId = `${tag}.${client}`;
  const consumer = port.groupConsumer({
    groupId,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1000,
    maxBytesPerPartition: 1 << 20,
    maxBytes: 1 << 22,
    maxWaitTimeMs: 100,
    readCommitted: true,
  });
  await consumer.connect();
  await consumer.run({
    topics: [topics.input],
    fromBeginning: true,
    concurrency: 1,
    eachBatch: async () => {},
  });
  const producers: TransactionalProducer[] = PARTITIONS.map((p) =>
    port.transactionalProducer({ transactionalId: `${groupId}.${p}`, transactionTimeoutMs: 60_000 }),
  );
  await Promise.all(producers.map((p) => p.open()));
  try {
    await measure(
      `${client === 'confluent' ? 'librdkafka' : client}, one transaction per partition, 4 at once (the scorer)`,
      () =>
        Promise.all(
          producers.map(async (p, partition) => {
            const tx = await p.transaction();
            await tx.send([{ topic: topics.output, records: records([partition]) }]);
            await tx.sendOffsets({
              groupId,
              offsets: [{ topic: topics.input, partition, offset: String(offset) }],
            });
            await tx.commit();
          }),
        ),
    );
  } finally {
    await Promise.all(producers.map((p) => p.close()));
    await consumer.disconnect();
  }
}

/** librdkafka's client itself: one producer, the four partitions' records and offsets in one transaction. */
async function oneTransactionArm(): Promise<void> {
  interface Tx {
    send(b: { topic: string; messages: OutRecord[] }): Promise<unknown>;
    sendOffsets(o: { consumer: unknown; topics: unknown[] }): Promise<void>;
    commit(): Promise<void>;
  }
  interface Client {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
  }
  const { KafkaJS } = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as {
    KafkaJS: {
      Kafka: new (c: unknown) => {
        producer(c: unknown): Client & { transaction(): Promise<Tx> };
        consumer(c: unknown): Client & {
          subscribe(s: unknown): Promise<void>;
          run(r: unknown): Promise<void>;
          assignment(): unknown[];
        };
      };
      logLevel: { ERROR: number };
    };
  };
  const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: conn.brokers, logLevel: KafkaJS.logLevel.ERROR } });
  // sendOffsets takes a consumer in the group (its generation goes with the offsets).
  const consumer = kafka.consumer({ kafkaJS: { groupId: `${tag}.one`, autoCommit: false } });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.input] });
  await consumer.run({ eachBatch: async () => undefined });
  for (let i = 0; i < 200 && consumer.assignment().length < PARTITIONS.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const producer = kafka.producer({
    kafkaJS: { transactionalId: `${tag}.one`, idempotent: true, maxInFlightRequests: 1, acks: -1 },
    'linger.ms': 0,
  });
  await producer.connect();
  try {
    await measure('librdkafka, one transaction for the 4 partitions', async () => {
      const tx = await producer.transaction();
      await tx.send({ topic: topics.output, messages: records(PARTITIONS) });
      await tx.sendOffsets({
        consumer,
        topics: [
          {
            topic: topics.input,
            partitions: PARTITIONS.map((partition) => ({ partition, offset: String(offset) })),
          },
        ],
      });
      await tx.commit();
    });
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
}

const admin = createKafka(conn).admin();
await admin.connect();
await admin.createTopics({
  waitForLeaders: true,
  topics: [topics.input, topics.output].map((topic) => ({
    topic,
    numPartitions: PARTITIONS.length,
    replicationFactor: 1,
  })),
});
try {
  say(`tx-scope: ${ROUNDS} rounds per arm, 4 partitions, 8 records of 120 bytes per partition per round`);
  say('| arm | rounds | p50 ms a round | p90 | p99 |');
  say('| --- | --- | --- | --- | --- |');
  await perPartitionArm('kafkajs');
  if (confluentAvailable()) {
    await perPartitionArm('confluent');
    await oneTransactionArm();
  } else say('| librdkafka | not built (`npm run setup:librdkafka`) | | | |');
} finally {
  await admin.deleteTopics({ topics: [topics.input, topics.output] }).catch(() => undefined);
  await admin.disconnect();
}
