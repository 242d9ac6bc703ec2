/**
 * `npx tsx test/bench/tx-retry.bench.ts`: does CONCURRENT_TRANSACTIONS after a commit slow down the next
 * transaction, and does the producers' retry policy matter? Back-to-back transactions on one
 * transactional id (send a few records, send offsets, commit), as the scorer does per batch, with
 * kafkajs's default retry (first retry after 300 ms, doubling) and with the scorer's (5 ms, ×1.5).
 * Prints per policy: transactions, retries by error (counted from kafkajs's retry log lines), and p50/p99
 * of each stage and of the whole transaction.
 *
 * Environment: SMAE_BENCH_TX (transactions per policy, default 200).
 */
import { Partitioners, type RetryOptions } from 'kafkajs';
import { createKafka, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { percentile } from '../../shared/threshold/percentile.js';

const TX = Number(process.env.SMAE_BENCH_TX ?? 200);
const say = (s: string): void => void process.stdout.write(`${s}\n`);

const POLICIES: Record<string, RetryOptions | undefined> = {
  'kafkajs default (300 ms, x2)': undefined,
  'scorer (5 ms, x1.5, max 1 s)': {
    initialRetryTime: 5,
    multiplier: 1.5,
    maxRetryTime: 1000,
    retries: Number.MAX_SAFE_INTEGER,
  },
};

async function run(name: string, retry: RetryOptions | undefined): Promise<void> {
  const retries = new Map<string, number>();
  const kafka = createKafka(kafkaConnectionFromEnv(process.env, { clientId: 'bench-tx-retry' }), undefined, {
    onRetry: (type) => retries.set(type, (retries.get(type) ?? 0) + 1),
  });
  const id = `bench-tx-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const topic = `${id}.out`;
  const input = `${id}.in`;
  const group = `${id}.group`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 1, replicationFactor: 1 },
      { topic: input, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  const producer = kafka.producer({
    transactionalId: id,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    ...(retry ? { retry } : {}),
  });
  await producer.connect();
  const stages: Record<string, number[]> = { send: [], send_offsets: [], commit: [], total: [] };
  try {
    for (let i = 0; i < TX; i++) {
      const t0 = performance.now();
      const tx = await producer.transaction();
      await tx.send({ topic, acks: -1, messages: [{ key: `k${i}`, value: Buffer.alloc(100) }] });
      const t1 = performance.now();
      await tx.sendOffsets({
        consumerGroupId: group,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: String(i + 1) }] }],
      });
      const t2 = performance.now();
      await tx.commit();
      const t3 = performance.now();
      stages.send!.push(t1 - t0);
      stages.send_offsets!.push(t2 - t1);
      stages.commit!.push(t3 - t2);
      stages.total!.push(t3 - t0);
    }
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic, input] }).catch(() => undefined);
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.disconnect();
  }
  const fmt = (xs: number[]): string =>
    `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms`;
  say(`${name}: ${TX} transactions, retries ${JSON.stringify(Object.fromEntries(retries))}`);
  for (const [stage, xs] of Object.entries(stages)) say(`  ${stage.padEnd(12)} ${fmt(xs)}`);
}

for (const [name, retry] of Object.entries(POLICIES)) await run(name, retry);
