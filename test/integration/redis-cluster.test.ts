/**
 * The pipeline on a real Redis Cluster (three primaries from redis-server, private ports 17000–17010,
 * torn down afterwards; test/helpers/redis-cluster.ts), through the project's own client
 * (`REDIS_URL=redis://node?cluster=true`): the model registry (its Lua scripts touch several keys), the
 * adapter's BullMQ job scheduler and one adaptation cycle, and the scorer's window stream. Every key the
 * pipeline leaves carries its hash tag and lands in one slot, BullMQ's included.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from 'ioredis';
import { buildAdapter } from '../../services/adapter/app.js';
import { resolveAdapterConfig } from '../../services/adapter/config.js';
import { DriftStream } from '../../lab/drift/drift-stream.js';
import { trainSimModel } from '../../lab/drift/train.js';
import { appendWindow } from '../../shared/adaptation/window.js';
import { pipelineNames } from '../../shared/pipeline.js';
import { createRedis, deleteKeysByPrefix, type Redis } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { windowStreamKey } from '../../shared/scoring/window.js';
import { testAdmin, testKafka, testProducer, uniqueName, uniquePipeline } from '../helpers/infra.js';
import {
  redisClusterUnavailable,
  startRedisCluster,
  type LocalRedisCluster,
} from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait.js';
import {
  createPipelineTopics,
  encodeTransaction,
  ensureBackend,
  groupCaughtUp,
  normalTransaction,
  produceAll,
  rng,
  testScorer,
  tinyModelArtifact,
} from '../fixtures/transactions.js';

const unavailable = redisClusterUnavailable();
let cluster: LocalRedisCluster | undefined;
let redis: Redis;
let bullmq: Redis;

before(async () => {
  if (unavailable !== undefined) return;
  cluster = await startRedisCluster();
  redis = createRedis(cluster.url, { connectionName: 'cluster-test' });
  bullmq = createRedis(cluster.url, { connectionName: 'cluster-test-bullmq', maxRetriesPerRequest: null });
});

after(async () => {
  for (const c of [redis, bullmq]) await c?.quit().catch(() => c.disconnect());
  await cluster?.stop();
});

/** Every key of the cluster (all primaries) that mentions the pipeline's name. */
async function keysOf(name: string): Promise<string[]> {
  const out: string[] = [];
  for (const node of (redis as unknown as Cluster).nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `*${name}*`, 'COUNT', 500);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
  }
  return out.sort();
}

/** Asserts every key of the pipeline carries its hash tag and sits in the tag's slot. */
async function assertOneSlot(name: string, mustInclude: string[]): Promise<string[]> {
  const keys = await keysOf(name);
  const tag = `{${name}}`;
  const slot = (await redis.call('CLUSTER', 'KEYSLOT', tag)) as number;
  for (const k of keys) {
    assert.ok(k.includes(tag), `${k} carries the hash tag ${tag}`);
    assert.equal(await redis.call('CLUSTER', 'KEYSLOT', k), slot, `${k} is in slot ${slot}`);
  }
  for (const prefix of mustInclude)
    assert.ok(
      keys.some((k) => k.startsWith(prefix)),
      `a key under ${prefix}`,
    );
  return keys;
}

describe('Redis Cluster (3 primaries)', { skip: unavailable ?? false }, () => {
  test('the registry, the adapter scheduler and one adaptation cycle run on the cluster, in one slot', async (t) => {
    const name = uniqueName('cl-adapt');
    const names = pipelineNames(name);
    t.after(() => deleteKeysByPrefix(redis, names.redisPrefix));
    const stream = new DriftStream({ rowsPerWindow: 800, seed: 5 });
    const trained = await trainSimModel(stream, {
      rows: 3000,
      epochs: 30,
      seed: 1,
      restarts: 2,
      version: null,
    });
    const registry = new ModelRegistry({ redis, pipeline: name });
    const v1 = await registry.publish(trained, { publishedBy: 'trainer', reason: 'cluster test' });
    assert.equal(v1.version, 1);
    await appendWindow(
      redis,
      name,
      stream
        .window(1)
        .map((r) => ({ record: r.record, score: 0, flagged: false, key: r.key, ts: r.ts, version: 1 })),
    );

    const config = resolveAdapterConfig({
      pipeline: name,
      every: '1000ms',
      lockDurationMs: '5000',
      stalledIntervalMs: '1000',
      backoffMs: '200',
      metricsPort: '0',
    });
    const adapter = buildAdapter(config, { redis, bullmq });
    t.after(() => adapter.close());
    await adapter.start();
    const current = await waitFor(
      async () => {
        const c = await registry.current();
        return c !== null && c.version >= 2 ? c : null;
      },
      { timeoutMs: 90_000, message: 'an adapted version published through the cluster' },
    );
    assert.equal(current.publishedBy, 'adapter');
    assert.equal(current.artifact.manifest.parentVersion, current.version - 1);
    // The version is in the registry before its cycle is counted (the count follows the publish).
    const published = /smae_adapter_cycles_total\{[^}]*outcome="published"[^}]*\} [1-9]/;
    await waitFor(async () => published.test(await adapter.metricsRegistry.metrics()), {
      timeoutMs: 10_000,
      message: 'the published cycle counted in the adapter metrics',
    });
    await adapter.close();

    const keys = await assertOneSlot(name, [names.redisPrefix, `${names.queuePrefix}:adapter:`]);
    assert.ok(keys.length >= 5, `the registry, window, state and BullMQ keys: ${keys.join(' ')}`);
  });

  test("the scorer's window stream is written to the cluster", async (t) => {
    await ensureBackend();
    const names = uniquePipeline(t, 'cl-score');
    t.after(() => deleteKeysByPrefix(redis, names.redisPrefix));
    const admin = await testAdmin(t);
    await createPipelineTopics(admin, names, 2);
    const registry = new ModelRegistry({ redis, pipeline: names.name });
    await registry.publish(await tinyModelArtifact({ seed: 3 }), { publishedBy: 'test', reason: 'cluster' });
    const scorer = testScorer(t, names, { kafka: testKafka('scorer-cluster'), redis, models: registry });
    await scorer.start();
    const r = rng(2);
    const messages = Array.from({ length: 120 }, (_, i) => {
      const tx = normalTransaction(i, r);
      return { key: tx.accountId, value: encodeTransaction(tx), partition: i % 2 };
    });
    await produceAll(await testProducer(t), names.topics.records, messages);
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      timeoutMs: 90_000,
      message: 'the scorer consumed every record',
    });
    const key = windowStreamKey(names.redisPrefix);
    const len = await waitFor(async () => (await redis.xlen(key)) >= 120 && redis.xlen(key), {
      timeoutMs: 30_000,
      message: 'window entries on the cluster',
    });
    assert.equal(len, 120, 'one window entry per scored record (sample rate 1)');
    await assertOneSlot(names.name, [key]);
  });
});
