/**
 * No backlog and no record can stall a partition (issue 13): against the real broker,
 * - a backlog of several fetches of small records, with the scores topic on and a high flag rate,
 *   whose outputs per fetch are larger than the output topics' max.message.bytes: every record is scored
 *   exactly once (read_committed);
 * - a ~1 MB garbage record (its dead letter cannot carry its bytes) and a 5 MB valid record (over the
 *   maximum record size) both end in the dead-letter topic, by reference, while every other record is
 *   scored exactly once;
 * - a partition whose batch fails every time turns readiness red and shows in the stall metrics, while
 *   the other partition keeps flowing.
 *
 * The output topics are created with a small max.message.bytes, so a backlog that would stall the
 * scorer is a few thousand records rather than a few hundred thousand.
 */
import { test, describe, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SCORE_SCHEMA, type ScoreRecord } from '../../shared/avro/index.js';
import { Detector, type ModelArtifact } from '../../shared/model/index.js';
import { DEAD_LETTER_HEADERS, headerString, type ScoringModel } from '../../shared/scoring/index.js';
import { testKafka, testProducer } from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';
import {
  TRANSACTION_SCHEMA_ID,
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
  pipelineWithModel,
} from '../fixtures/transactions.js';

let artifact: ModelArtifact;
before(async () => {
  await ensureBackend();
  artifact = await tinyModelArtifact({ seed: 5 });
});

/** Input positions `partition:offset` of the scores read back; throws on a duplicate. */
function scoredPositions(scores: { value: Buffer | null }[]): Set<string> {
  const seen = new Set<string>();
  for (const s of scores) {
    const r = SCORE_SCHEMA.fromBuffer(s.value!) as ScoreRecord;
    const k = `${r.partition}:${r.offset}`;
    assert.ok(!seen.has(k), `score for ${k} twice`);
    seen.add(k);
  }
  return seen;
}

/**
 * Records whose flags the broker refuses (the flags topic's max.message.bytes lowered under a flag's size
 * once the scorer runs) are dead-lettered by reference, one by one; every other record is scored once.
 */
async function refusedOutputs(
  t: TestContext,
  o: { partitions: number; settings?: Parameters<typeof testScorer>[3] },
): Promise<void> {
  const { names, admin, registry } = await pipelineWithModel(t, artifact, {
    partitions: o.partitions,
    prefix: 'split',
    reason: 'split test',
  });
  const kafka = testKafka('scorer-split');
  const scorer = testScorer(
    t,
    names,
    { kafka, redis: null, models: registry },
    { emitScores: true, ...o.settings },
  );
  await scorer.start();
  // After the scorer read the limits: the flags topic now refuses every flag (a flag is ~300 bytes).
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: 2, // TOPIC
        name: names.topics.flags,
        configEntries: [{ name: 'max.message.bytes', value: '100' }],
      },
    ],
  });
  const r = rng(6);
  const total = 200;
  const anomalies = new Set([17, 120]);
  const producer = await testProducer(t);
  await produceAll(
    producer,
    names.topics.records,
    Array.from({ length: total }, (_, i) => ({
      key: `k${i}`,
      partition: i % o.partitions,
      value: encodeTransaction(anomalies.has(i) ? anomalousTransaction(i) : normalTransaction(i, r)),
    })),
    total,
  );
  await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
    timeoutMs: 120_000,
    message: 'the scorer to get past the records whose flags are refused',
  });
  const dead = await readTopicToEnd(kafka, admin, names.topics.deadLetters);
  assert.deepEqual(
    dead
      .map(
        (d) =>
          `${headerString(d.headers, DEAD_LETTER_HEADERS.sourcePartition)}:${headerString(d.headers, DEAD_LETTER_HEADERS.sourceOffset)}`,
      )
      .sort(),
    [...anomalies].map((i) => `${i % o.partitions}:${Math.floor(i / o.partitions)}`).sort(),
  );
  for (const d of dead) {
    assert.equal(headerString(d.headers, DEAD_LETTER_HEADERS.errorCode), 'OUTPUT_REJECTED');
    assert.equal(headerString(d.headers, DEAD_LETTER_HEADERS.payload), 'reference');
  }
  const scored = scoredPositions(await readTopicToEnd(kafka, admin, names.topics.scores));
  assert.equal(scored.size, total - anomalies.size, 'every other record scored exactly once');
  assert.equal((await readTopicToEnd(kafka, admin, names.topics.flags)).length, 0);
  assert.match(await scorer.metricsRegistry.metrics(), /smae_scorer_batch_splits_total\{[^}]*\} [1-9]/);
}

describe('no backlog and no record stalls a partition', () => {
  test('a backlog whose outputs per fetch exceed max.message.bytes is scored exactly once', async (t) => {
    // 32 KB output topics, 64 KB fetches: one fetch (~700 records) makes ~70 KB of scores and ~40 KB of
    // flags, which kafkajs would send to one partition as one record batch.
    const { names, admin, registry } = await pipelineWithModel(t, artifact, {
      partitions: 2,
      prefix: 'backlog',
      reason: 'backlog test',
      maxMessageBytes: { flags: 32 * 1024, scores: 32 * 1024, deadLetters: 32 * 1024 },
    });

    // The backlog is there before the scorer starts: 6,000 records, every third an anomaly.
    const records = 6000;
    const r = rng(9);
    const anomalies = new Set<string>();
    const next = [0, 0];
    const messages = Array.from({ length: records }, (_, i) => {
      const partition = i % 2;
      const anomaly = i % 3 === 0;
      if (anomaly) anomalies.add(`${partition}:${next[partition]}`);
      next[partition]!++;
      return {
        key: `k${i}`,
        partition,
        value: encodeTransaction(anomaly ? anomalousTransaction(i) : normalTransaction(i, r)),
      };
    });
    const producer = await testProducer(t);
    await produceAll(producer, names.topics.records, messages, 1000);

    const kafka = testKafka('scorer-backlog');
    const scorer = testScorer(
      t,
      names,
      { kafka, redis: null, models: registry },
      { emitScores: true, maxBytesPerPartition: 64 * 1024 },
    );
    await scorer.start();
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      timeoutMs: 120_000,
      message: 'the scorer to commit the whole backlog',
    });

    const scores = await readTopicToEnd(kafka, admin, names.topics.scores);
    assert.equal(scores.length, records, 'one score per record');
    assert.equal(scoredPositions(scores).size, records);
    const flags = await readTopicToEnd(kafka, admin, names.topics.flags);
    assert.equal(flags.length, anomalies.size, 'one flag per anomaly');
    const flagged = new Set(flags.map((f) => f.key!.toString().split(':').slice(-2).join(':')));
    assert.deepEqual([...flagged].sort(), [...anomalies].sort());
    assert.equal((await readTopicToEnd(kafka, admin, names.topics.deadLetters)).length, 0);
  });

  test('a 1 MB garbage record and a 5 MB valid record are dead-lettered by reference; the rest flows', async (t) => {
    const { names, admin, registry } = await pipelineWithModel(t, artifact, {
      partitions: 2,
      prefix: 'poison',
      reason: 'poison test',
      maxMessageBytes: { records: 8 * 1024 * 1024 },
    });

    const r = rng(4);
    // Garbage in the Confluent wire format (magic byte, a known schema id, then junk): fails decoding.
    const garbage = Buffer.alloc(1_048_300, 0xab);
    garbage.writeUInt8(0, 0);
    garbage.writeUInt32BE(TRANSACTION_SCHEMA_ID, 1);
    // A valid record of 5 MB: a huge account id.
    const huge = encodeTransaction({ ...normalTransaction(1, r), accountId: 'x'.repeat(5 * 1024 * 1024) });
    const total = 400;
    const messages: { key: string; partition: number; value: Buffer }[] = [];
    for (let i = 0; i < total; i++) {
      const partition = i % 2;
      let value = encodeTransaction(normalTransaction(i, r));
      if (i === 50) value = garbage; // partition 0, offset 25
      if (i === 101) value = huge; // partition 1, offset 50
      messages.push({ key: `k${i}`, partition, value });
    }
    const producer = await testProducer(t);
    for (const m of messages) await produceAll(producer, names.topics.records, [m]);

    const kafka = testKafka('scorer-poison');
    const scorer = testScorer(t, names, { kafka, redis: null, models: registry }, { emitScores: true });
    await scorer.start();
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      timeoutMs: 120_000,
      message: 'the scorer to get past both poison records',
    });

    const dead = await readTopicToEnd(kafka, admin, names.topics.deadLetters);
    const byOffset = new Map(
      dead.map((d) => [
        `${headerString(d.headers, DEAD_LETTER_HEADERS.sourcePartition)}:${headerString(d.headers, DEAD_LETTER_HEADERS.sourceOffset)}`,
        d,
      ]),
    );
    assert.equal(dead.length, 2);
    const expectations: [string, Buffer, string][] = [
      ['0:25', garbage, 'DECODE_FAILED'],
      ['1:50', huge, 'RECORD_TOO_LARGE'],
    ];
    for (const [position, original, code] of expectations) {
      const d = byOffset.get(position);
      assert.ok(d, `dead letter for ${position}`);
      assert.equal(headerString(d.headers, DEAD_LETTER_HEADERS.errorCode), code);
      assert.equal(headerString(d.headers, DEAD_LETTER_HEADERS.payload), 'reference');
      const sha = createHash('sha256').update(original).digest('hex');
      assert.equal(headerString(d.headers, DEAD_LETTER_HEADERS.payloadSha256), sha);
      const ref = JSON.parse(d.value!.toString()) as { reference: Record<string, unknown> };
      assert.deepEqual(ref.reference, {
        topic: names.topics.records,
        partition: Number(position.split(':')[0]),
        offset: position.split(':')[1],
        size: original.length,
        sha256: sha,
      });
    }

    const scores = await readTopicToEnd(kafka, admin, names.topics.scores);
    const scored = scoredPositions(scores);
    assert.equal(scored.size, total - 2, 'every other record scored exactly once');
    assert.ok(!scored.has('0:25') && !scored.has('1:50'));
    const metrics = await scorer.metricsRegistry.metrics();
    assert.match(metrics, /smae_scorer_dead_letters_total\{[^}]*code="RECORD_TOO_LARGE"[^}]*\} 1\b/);
  });

  test('outputs the broker refuses are isolated by splitting the batch: that record is dead-lettered', async (t) => {
    await refusedOutputs(t, { partitions: 1 });
  });

  // One transaction per member (librdkafka): a refusal in a shared transaction is attributed by sending
  // each partition's batch alone, so only the partitions at fault split their batches.
  if (process.env['KAFKA_CLIENT'] === 'confluent') {
    test('one transaction per member: refused outputs dead-letter only their records', async (t) => {
      await refusedOutputs(t, { partitions: 2, settings: { transactionScope: 'member' } });
    });
  }

  test('a partition that stops advancing turns readiness red and shows in the stall metrics', async (t) => {
    const { names, admin, registry } = await pipelineWithModel(t, artifact, {
      partitions: 2,
      prefix: 'stuck',
      reason: 'stuck test',
    });

    // A model that fails (not a record error: the whole batch is retried) on any batch holding account
    // "stuck": the partition with that record cannot advance.
    const stuckOn = (model: ScoringModel): ScoringModel => ({
      get version() {
        return model.version;
      },
      prepare(records) {
        if (records.some((x) => x.accountId === 'stuck')) throw new Error('deliberately stuck');
        return model.prepare(records);
      },
      scoreMatrix: (matrix, rows, opts) => model.scoreMatrix(matrix, rows, opts),
      dispose: () => model.dispose(),
    });
    const kafka = testKafka('scorer-stuck');
    const scorer = testScorer(
      t,
      names,
      { kafka, redis: null, models: registry, loadModel: (a) => stuckOn(Detector.fromArtifact(a)) },
      { stallTimeoutMs: 1000 },
    );
    await scorer.start();
    await waitFor(() => scorer.ready().ok, { message: 'ready before the stuck record' });

    const r = rng(2);
    const producer = await testProducer(t);
    await produceAll(producer, names.topics.records, [
      {
        key: 'a',
        partition: 0,
        value: encodeTransaction({ ...normalTransaction(0, r), accountId: 'stuck' }),
      },
      ...Array.from({ length: 20 }, (_, i) => ({
        key: `b${i}`,
        partition: 1,
        value: encodeTransaction(normalTransaction(i, r)),
      })),
    ]);

    const reason = await waitFor(
      () => {
        const ready = scorer.ready();
        const why = String((ready.detail as { reason?: string } | undefined)?.reason ?? '');
        return !ready.ok && /not advancing/.test(why) ? why : null;
      },
      { timeoutMs: 60_000, message: 'readiness to report the stuck partition' },
    );
    assert.match(reason, new RegExp(`${names.topics.records}/0 `));
    assert.doesNotMatch(reason, new RegExp(`${names.topics.records}/1 `));
    const metrics = await scorer.metricsRegistry.metrics();
    assert.match(metrics, /smae_scorer_stalled_partitions\{[^}]*\} 1\b/);
    const age = new RegExp(
      `smae_scorer_oldest_unprocessed_age_seconds\\{[^}]*partition="0"[^}]*\\} ([0-9.e+-]+)`,
    ).exec(metrics);
    assert.ok(age && Number(age[1]) >= 1, `age of the stuck record: ${age?.[1]}`);
    // The other partition was scored meanwhile.
    const offsets = await admin.fetchOffsets({
      groupId: names.groups.scorer,
      topics: [names.topics.records],
    });
    const p1 = offsets[0]!.partitions.find((p) => p.partition === 1)!;
    assert.equal(p1.offset, '20');
  });
});
