/**
 * The scorer against the real broker and Redis: flags, dead letters, hot model swaps, scale-out,
 * and zombie fencing by per-partition transactional ids.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  FLAG_SCHEMA,
  SCORE_SCHEMA,
  TRANSACTION_SCHEMA,
  encodeRecord,
  staticSchemaIds,
  type FlagRecord,
} from '../../shared/avro/index.js';
import {
  DEAD_LETTER_HEADERS,
  decodeWindowEntry,
  headerString,
  windowStreamKey,
} from '../../shared/scoring/index.js';
import { ExactlyOnceDelivery, transactionalIdFor } from '../../services/scorer/delivery.js';
import { isFencingError, kafkajsPort } from '../../shared/kafka/kafkajs-adapter.js';
import { startOpsServer } from '../../shared/ops/server.js';
import { silentLogger } from '../../shared/log.js';
import { testAdmin, testKafka, testProducer, uniqueGroup, uniqueTopic } from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';
import {
  anomalousTransaction,
  encodeTransaction,
  ensureBackend,
  groupCaughtUp,
  normalTransaction,
  produceAll,
  readTopicToEnd,
  rng,
  testScorer,
  tinyModelArtifact,
  withThreshold,
  TRANSACTION_SCHEMA_ID,
  pipelineWithModel,
} from '../fixtures/transactions.js';
import type { ModelArtifact } from '../../shared/model/index.js';
import type { BatchInfo } from '../../services/scorer/app.js';
import { NO_AMOUNT_SCHEMA } from '../fixtures/transactions.js';

let baseArtifact: ModelArtifact;

before(async () => {
  await ensureBackend();
  baseArtifact = await tinyModelArtifact({ seed: 11 });
});

function decodeFlag(value: Buffer | null): FlagRecord {
  return FLAG_SCHEMA.fromBuffer(value!) as FlagRecord;
}

describe('scorer (exactly-once)', () => {
  test('flags the known anomalies only, dead-letters bad records with headers, and keeps flowing', async (t) => {
    const { names, admin, redis, registry, published } = await pipelineWithModel(t, baseArtifact, {
      partitions: 2,
    });
    const kafka = testKafka('scorer-under-test');
    const resolveSchemaId = staticSchemaIds({
      [TRANSACTION_SCHEMA_ID]: TRANSACTION_SCHEMA,
      2: NO_AMOUNT_SCHEMA,
    });
    const scorer = testScorer(
      t,
      names,
      { kafka, redis, models: registry, resolveSchemaId },
      { emitScores: true },
    );
    const ops = await startOpsServer({
      registry: scorer.metricsRegistry,
      ready: () => scorer.ready(),
      health: () => scorer.health(),
      port: 0,
      host: '127.0.0.1',
    });
    t.after(() => ops.close());
    assert.equal((await fetch(`${ops.url}/readyz`)).status, 503, 'not ready before start');
    await scorer.start();

    // 400 normal records, 12 anomalies at known positions, 6 bad records; all on partition 0 or 1 by key.
    const r = rng(3);
    const messages: { key: string; value: Buffer | null; partition: number; kind: string }[] = [];
    for (let i = 0; i < 418; i++) {
      const partition = i % 2;
      let value: Buffer | null;
      let kind = 'normal';
      if (i % 35 === 17) {
        value = encodeTransaction(anomalousTransaction(i));
        kind = 'anomaly';
      } else if (i === 60) {
        value = Buffer.from([0, 0, 0, 0, TRANSACTION_SCHEMA_ID, 0xff, 0xff, 0xff]);
        kind = 'DECODE_FAILED';
      } else if (i === 61) {
        value = encodeRecord(TRANSACTION_SCHEMA, normalTransaction(i, r), { schemaId: 4242 });
        kind = 'UNKNOWN_SCHEMA_ID';
      } else if (i === 62) {
        value = encodeRecord(NO_AMOUNT_SCHEMA, { accountId: 'x' }, { schemaId: 2 });
        kind = 'SCHEMA_MISMATCH';
      } else if (i === 63) {
        value = encodeTransaction({ ...normalTransaction(i, r), distanceKm: null });
        kind = 'MISSING_FIELD';
      } else if (i === 64) {
        value = encodeTransaction({ ...normalTransaction(i, r), amount: Number.NaN });
        kind = 'NON_FINITE_VALUE';
      } else if (i === 65) {
        value = null;
        kind = 'EMPTY_RECORD';
      } else {
        value = encodeTransaction(normalTransaction(i, r));
      }
      messages.push({ key: `k${i}`, value, partition, kind });
    }
    const producer = await testProducer(t);
    await produceAll(producer, names.topics.records, messages, 100);
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      message: 'the scorer to commit every input offset',
    });

    // Input positions: partition p gets messages i with i % 2 == p, in order.
    const position = new Map<string, (typeof messages)[number]>();
    const next = [0, 0];
    for (const m of messages) position.set(`${m.partition}:${next[m.partition]!++}`, m);

    const flags = await readTopicToEnd(kafka, admin, names.topics.flags);
    const flagged = flags.map((f) => decodeFlag(f.value));
    const expected = messages.filter((m) => m.kind === 'anomaly').length;
    assert.equal(flags.length, expected, 'one flag per anomaly, none for normal rows');
    for (const [i, f] of flagged.entries()) {
      assert.equal(position.get(`${f.partition}:${f.offset}`)?.kind, 'anomaly');
      assert.equal(flags[i]!.key?.toString(), `${names.topics.records}:${f.partition}:${f.offset}`);
      assert.equal(f.modelVersion, published.version);
      assert.equal(f.pipeline, names.name);
      assert.ok(f.score > f.threshold);
      assert.ok(f.topFeatures.length > 0 && f.topFeatures.length <= 5);
      assert.ok(f.topFeatures.every((c) => c.share >= 0 && c.share <= 1));
      assert.match(f.key ?? '', /^acct-/);
    }

    const dead = await readTopicToEnd(kafka, admin, names.topics.deadLetters);
    const deadKinds = dead.map((d) => headerString(d.headers, DEAD_LETTER_HEADERS.errorCode)).sort();
    assert.deepEqual(deadKinds, [
      'DECODE_FAILED',
      'EMPTY_RECORD',
      'MISSING_FIELD',
      'NON_FINITE_VALUE',
      'SCHEMA_MISMATCH',
      'UNKNOWN_SCHEMA_ID',
    ]);
    for (const d of dead) {
      const partition = Number(headerString(d.headers, DEAD_LETTER_HEADERS.sourcePartition));
      const offset = headerString(d.headers, DEAD_LETTER_HEADERS.sourceOffset);
      const source = position.get(`${partition}:${offset}`)!;
      assert.equal(headerString(d.headers, DEAD_LETTER_HEADERS.errorCode), source.kind);
      assert.equal(headerString(d.headers, DEAD_LETTER_HEADERS.sourceTopic), names.topics.records);
      assert.ok(headerString(d.headers, DEAD_LETTER_HEADERS.errorMessage)!.length > 0);
      assert.deepEqual(d.value, source.value, 'original bytes');
      assert.equal(d.key?.toString(), source.key, 'original key');
    }

    const scores = await readTopicToEnd(kafka, admin, names.topics.scores);
    assert.equal(scores.length, messages.length - dead.length, 'one score per scored record');
    const anomalyScores = scores.map((s) => SCORE_SCHEMA.fromBuffer(s.value!) as { isAnomaly: boolean });
    assert.equal(anomalyScores.filter((s) => s.isAnomaly).length, expected);

    const windowKey = windowStreamKey(names.redisPrefix);
    await waitFor(async () => (await redis.xlen(windowKey)) === messages.length - dead.length, {
      message: 'window entries for every scored record',
    });
    const [[, fields]] = (await redis.xrange(windowKey, '-', '+', 'COUNT', 1)) as [string, string[]][];
    const entry = decodeWindowEntry(fields!)!;
    assert.equal(entry.modelVersion, published.version);
    assert.equal(typeof entry.features.amount, 'number');

    const metrics = await (await fetch(`${ops.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`smae_scorer_records_total\\{[^}]*\\} ${messages.length}\\b`));
    assert.match(metrics, new RegExp(`smae_scorer_flags_total\\{[^}]*\\} ${expected}\\b`));
    assert.match(metrics, /smae_scorer_dead_letters_total\{[^}]*code="NON_FINITE_VALUE"[^}]*\} 1\b/);
    assert.match(metrics, new RegExp(`smae_scorer_model_version\\{[^}]*\\} ${published.version}\\b`));
    assert.match(metrics, /smae_scorer_end_to_end_lag_seconds_count\{[^}]*\} \d+/);
    assert.match(metrics, /smae_scorer_transactions_total\{[^}]*outcome="committed"[^}]*\} \d+/);
    const ready = await fetch(`${ops.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { modelVersion: number }).modelVersion, published.version);
  });

  test('a model swap mid-stream takes effect between batches; a model that does not fit is refused', async (t) => {
    const {
      names,
      admin,
      redis,
      registry,
      published: v1,
    } = await pipelineWithModel(t, baseArtifact, { partitions: 2, reason: 'v1' });
    const kafka = testKafka('scorer-swap');
    const batches: BatchInfo[] = [];
    const modelEvents: { version: number; installed: boolean }[] = [];
    const scorer = testScorer(
      t,
      names,
      {
        kafka,
        redis,
        models: registry,
        onBatch: (b) => batches.push(b),
        onModel: (e) => modelEvents.push({ version: e.version, installed: e.installed }),
      },
      { emitScores: true, maxBytesPerPartition: 4096 },
    );
    await scorer.start();
    const producer = await testProducer(t);
    const r = rng(5);

    // Every record is flagged under v2 (threshold 0) and only anomalies under v1: the version is visible.
    let produced = 0;
    let stopProducing = false;
    const streaming = (async () => {
      while (!stopProducing) {
        const chunk = Array.from({ length: 40 }, (_, j) => {
          const i = produced + j;
          return {
            key: `k${i}`,
            value: encodeTransaction(i % 10 === 0 ? anomalousTransaction(i) : normalTransaction(i, r)),
          };
        });
        produced += chunk.length;
        await producer.send({ topic: names.topics.records, messages: chunk });
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    await waitFor(() => batches.length >= 5, { message: 'a few batches on v1' });
    const v2 = await registry.publish(withThreshold(baseArtifact, 0), { publishedBy: 'test', reason: 'v2' });
    await waitFor(() => scorer.modelVersion() === v2.version, { message: 'the scorer to install v2' });
    const batchesAtSwap = batches.length;
    await waitFor(() => batches.length >= batchesAtSwap + 5, { message: 'a few batches on v2' });

    // A model whose features are not in the record schema is refused; v2 keeps scoring.
    const alien = await tinyModelArtifact({
      spec: {
        features: [
          { kind: 'numeric', name: 'temperature' },
          { kind: 'numeric', name: 'amount' },
        ],
        scaler: 'standard',
        impute: 'error',
      },
      rows: Array.from({ length: 100 }, (_, i) => ({ temperature: 20 + (i % 7), amount: 10 + (i % 5) })),
    });
    const v3 = await registry.publish(alien, { publishedBy: 'test', reason: 'alien' });
    await waitFor(() => modelEvents.some((e) => e.version === v3.version && !e.installed), {
      message: 'v3 refused',
    });
    assert.equal(scorer.modelVersion(), v2.version);
    stopProducing = true;
    await streaming;
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      message: 'catch-up',
    });

    const flags = (await readTopicToEnd(kafka, admin, names.topics.flags)).map((f) => decodeFlag(f.value));
    const versions = new Set(batches.map((b) => b.modelVersion));
    assert.deepEqual([...versions].sort(), [v1.version, v2.version].sort(), 'batches ran on v1, then v2');
    // Within a batch one version; per partition, v1 batches strictly before v2 batches.
    for (const b of batches) {
      const inBatch = flags.filter(
        (f) =>
          f.partition === b.partition &&
          BigInt(f.offset) >= BigInt(b.firstOffset) &&
          BigInt(f.offset) <= BigInt(b.lastOffset),
      );
      assert.equal(inBatch.length, b.flagged);
      assert.ok(
        inBatch.every((f) => f.modelVersion === b.modelVersion),
        'never mixed within one batch',
      );
    }
    for (const p of [0, 1]) {
      const seq = flags.filter((f) => f.partition === p).sort((a, b) => a.offset - b.offset);
      const firstV2 = seq.findIndex((f) => f.modelVersion === v2.version);
      assert.ok(firstV2 > 0, `partition ${p} saw both versions`);
      assert.ok(
        seq.slice(firstV2).every((f) => f.modelVersion === v2.version),
        'no v1 flag after the swap',
      );
    }
    const metrics = await scorer.metricsRegistry.getSingleMetricAsString('smae_scorer_models_refused_total');
    assert.match(metrics, /code="INCOMPATIBLE_MODEL"[^}]*\} 1/);
  });

  test('two scorers in one group split the partitions and together score everything once', async (t) => {
    const { names, admin, redis, registry } = await pipelineWithModel(t, baseArtifact, { partitions: 4 });
    const a = testScorer(t, names, { kafka: testKafka('scorer-a'), redis, models: registry });
    const b = testScorer(t, names, { kafka: testKafka('scorer-b'), redis, models: registry });
    await Promise.all([a.start(), b.start()]);
    const partitionsOf = (s: typeof a): number[] => s.assignment()[names.topics.records] ?? [];
    await waitFor(
      () =>
        partitionsOf(a).length > 0 &&
        partitionsOf(b).length > 0 &&
        partitionsOf(a).length + partitionsOf(b).length === 4,
      { message: 'both scorers to own partitions' },
    );
    assert.deepEqual([...partitionsOf(a), ...partitionsOf(b)].sort(), [0, 1, 2, 3], 'disjoint and complete');

    const producer = await testProducer(t);
    const messages = Array.from({ length: 800 }, (_, i) => ({
      key: `k${i}`,
      partition: i % 4,
      value: encodeTransaction(i % 20 === 0 ? anomalousTransaction(i) : normalTransaction(i, rng(i))),
    }));
    await produceAll(producer, names.topics.records, messages, 200);
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      message: 'catch-up',
    });
    const flags = (await readTopicToEnd(testKafka(), admin, names.topics.flags)).map((f) =>
      decodeFlag(f.value),
    );
    assert.equal(flags.length, 40);
    assert.equal(new Set(flags.map((f) => `${f.partition}:${f.offset}`)).size, 40, 'no duplicates');
    const recA = Number(
      (await a.metricsRegistry.getSingleMetric('smae_scorer_records_total')!.get()).values[0]?.value ?? 0,
    );
    const recB = Number(
      (await b.metricsRegistry.getSingleMetric('smae_scorer_records_total')!.get()).values[0]?.value ?? 0,
    );
    assert.ok(recA > 0 && recB > 0, `both scored (a=${recA}, b=${recB})`);
    assert.equal(recA + recB, 800);
  });

  test('at-least-once mode delivers every flag', async (t) => {
    const { names, admin, registry } = await pipelineWithModel(t, baseArtifact, { partitions: 2 });
    const scorer = testScorer(
      t,
      names,
      { kafka: testKafka(), redis: null, models: registry },
      { delivery: 'at-least-once' },
    );
    await scorer.start();
    const producer = await testProducer(t);
    await produceAll(
      producer,
      names.topics.records,
      Array.from({ length: 300 }, (_, i) => ({
        key: `k${i}`,
        value: encodeTransaction(i % 30 === 0 ? anomalousTransaction(i) : normalTransaction(i, rng(i))),
      })),
    );
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      message: 'catch-up',
    });
    const flags = await readTopicToEnd(testKafka(), admin, names.topics.flags);
    assert.equal(new Set(flags.map((f) => f.key?.toString())).size, 10);
  });
});

describe('zombie fencing', () => {
  test('a second producer with the same transactional id fences the first: its commit fails', async (t) => {
    const topic = await uniqueTopic(t, { prefix: 'fence' });
    const kafka = testKafka('fencing');
    const id = transactionalIdFor(`fence-${Date.now()}`, topic, 0);
    const older = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    const newer = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await older.connect();
    t.after(() => older.disconnect());
    const tx = await older.transaction();
    await tx.send({ topic, messages: [{ value: 'from the zombie' }] });
    await newer.connect();
    t.after(() => newer.disconnect());
    // The newer's first transaction initialises the id (InitProducerId): the epoch is bumped and the
    // older's open transaction aborted.
    const tx2 = await newer.transaction();
    const failure = await tx.commit().then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(failure, 'the older producer must not commit');
    assert.ok(isFencingError(failure), `a fencing error, got ${String((failure as Error).message)}`);
    await tx2.send({ topic, messages: [{ value: 'from the owner' }] });
    await tx2.commit();
    const admin = await testAdmin(t);
    const seen = await readTopicToEnd(kafka, admin, topic);
    assert.deepEqual(
      seen.map((m) => m.value?.toString()),
      ['from the owner'],
    );
  });

  test('per-partition delivery: the new owner fences the zombie and skips what the zombie committed', async (t) => {
    const topic = await uniqueTopic(t, { prefix: 'zin' });
    const out = await uniqueTopic(t, { prefix: 'zout' });
    const groupId = uniqueGroup(t);
    const admin = await testAdmin(t);
    const prefix = `zombie-${Date.now()}`;
    const portAdmin = kafkajsPort(testKafka('delivery-admin')).admin();
    await portAdmin.connect();
    t.after(() => portAdmin.disconnect());
    const make = (): ExactlyOnceDelivery =>
      new ExactlyOnceDelivery({
        kafka: kafkajsPort(testKafka('delivery')),
        admin: portAdmin,
        groupId,
        transactionalIdPrefix: prefix,
        topics: { flags: out, deadLetters: out, scores: out },
        logger: silentLogger,
      });
    const zombie = make();
    const owner = make();
    t.after(() => zombie.close());
    t.after(() => owner.close());
    const flag = (s: string) => ({ key: s, value: Buffer.from(s) });

    assert.deepEqual(await zombie.begin(topic, 0), { committedOffset: null });
    await zombie.commit(topic, 0, '10', { flags: [flag('z1')], deadLetters: [], scores: [] });
    // The new owner initialises the same transactional id: it sees the zombie's committed offset.
    assert.deepEqual(await owner.begin(topic, 0), { committedOffset: '10' });
    const err = await zombie
      .commit(topic, 0, '20', { flags: [flag('z2')], deadLetters: [], scores: [] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err && isFencingError(err), `zombie fenced, got ${String(err)}`);
    await zombie.fail(topic, 0, err);
    await assert.rejects(zombie.begin(topic, 0), /taken over/);
    await owner.commit(topic, 0, '20', { flags: [flag('o1')], deadLetters: [], scores: [] });
    const seen = await readTopicToEnd(testKafka(), admin, out);
    assert.deepEqual(seen.map((m) => m.key?.toString()).sort(), ['o1', 'z1']);
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.equal(committed[0]!.partitions[0]!.offset, '20');
    // After the group re-assigns the partition to it, the former zombie may own it again.
    await zombie.onAssignment({ [topic]: [0] });
    assert.deepEqual(await zombie.begin(topic, 0), { committedOffset: '20' });
  });
});
