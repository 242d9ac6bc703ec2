/**
 * The scorer classifies with the threshold policy of the model it loads from the registry: flags carry
 * that policy's threshold, kind and p-value, and a newly published version's (refitted) policy takes
 * over between batches.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAG_SCHEMA, type FlagRecord } from '../../shared/avro/index.js';
import { adaptDetector, Detector, trainDetector, type ModelArtifact } from '../../shared/model/index.js';
import { restorePolicy } from '../../shared/threshold/policy.js';
import { testKafka, testProducer } from '../helpers/infra.js';
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
  TX_SPEC,
  pipelineWithModel,
} from '../fixtures/transactions.js';

let conformal: ModelArtifact;
let spot: ModelArtifact;

before(async () => {
  await ensureBackend();
  const r = rng(5);
  const rows = Array.from({ length: 600 }, (_, i) => ({ ...normalTransaction(i, r) }));
  const detector = await trainDetector(rows, {
    spec: TX_SPEC,
    fit: { epochs: 4, batchSize: 64, seed: 3 },
    source: 'test:synthetic-transactions',
    threshold: { kind: 'conformal', params: { alpha: 0.05 } },
  });
  conformal = detector.toArtifact();
  // What the adapter does: a few steps, and the policy refitted (here as spot) on reference rows.
  const reference = Array.from({ length: 600 }, (_, i) => ({ ...normalTransaction(1000 + i, r) }));
  const adapted = await adaptDetector(detector, reference.slice(0, 100), reference, {
    steps: 2,
    threshold: { kind: 'spot', params: { q: 0.05 } },
  });
  spot = adapted.toArtifact();
  detector.dispose();
  adapted.dispose();
});

function decodeFlag(value: Buffer | null): FlagRecord {
  return FLAG_SCHEMA.fromBuffer(value!) as FlagRecord;
}

describe('scorer with threshold policies', () => {
  test('flags carry the policy’s threshold, kind and p-value; a new version’s policy takes over', async (t) => {
    const {
      names,
      admin,
      redis,
      registry,
      published: v1,
    } = await pipelineWithModel(t, conformal, { partitions: 1, reason: 'conformal' });
    const kafka = testKafka('scorer-policy');
    const scorer = testScorer(t, names, { kafka, redis, models: registry });
    await scorer.start();

    const r = rng(9);
    const batch = (from: number) =>
      Array.from({ length: 200 }, (_, j) => {
        const i = from + j;
        const anomaly = j % 40 === 7;
        return {
          key: `k${i}`,
          value: encodeTransaction(anomaly ? anomalousTransaction(i) : normalTransaction(i, r)),
          partition: 0,
          kind: anomaly ? 'anomaly' : 'normal',
        };
      });
    const producer = await testProducer(t);
    const first = batch(0);
    await produceAll(producer, names.topics.records, first, 100);
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      message: 'the scorer to commit the first batch',
    });

    const policy1 = restorePolicy(conformal.manifest.threshold.policy);
    const flags1 = (await readTopicToEnd(kafka, admin, names.topics.flags)).map((f) => decodeFlag(f.value));
    const anomalies1 = new Set(first.filter((m) => m.kind === 'anomaly').map((_, i) => i));
    assert.ok(flags1.length >= anomalies1.size, 'every anomaly flagged');
    for (const f of flags1) {
      assert.equal(f.modelVersion, v1.version);
      assert.equal(f.thresholdPolicy, 'conformal');
      assert.equal(f.threshold, conformal.manifest.threshold.value);
      assert.ok(f.score > f.threshold);
      assert.equal(f.pValue, policy1.classify(f.score).pValue);
      assert.ok(f.pValue! <= 0.05);
    }
    // The far-out anomalies score above every calibration score: p below 1 / (n + 1), on the policy's
    // exponential tail beyond the largest.
    const n = conformal.manifest.threshold.referenceRows;
    const farOut = flags1.filter((f) => f.pValue! < 1 / (n + 1));
    assert.ok(farOut.length >= anomalies1.size, `${farOut.length} flags at p < 1/(n+1)`);

    // A new version with a refitted (spot) policy: the scorer swaps between batches.
    const v2 = await registry.publish(spot, { publishedBy: 'adapter', reason: 'refitted' });
    await waitFor(() => scorer.modelVersion() === v2.version, {
      message: 'the scorer to load v2',
    });
    await produceAll(producer, names.topics.records, batch(200), 100);
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      message: 'the scorer to commit the second batch',
    });
    const policy2 = Detector.fromArtifact(spot);
    const flags2 = (await readTopicToEnd(kafka, admin, names.topics.flags))
      .map((f) => decodeFlag(f.value))
      .filter((f) => f.modelVersion === v2.version);
    assert.ok(flags2.length >= 5, `${flags2.length} flags from v2`);
    for (const f of flags2) {
      assert.equal(f.thresholdPolicy, 'spot');
      assert.equal(f.threshold, spot.manifest.threshold.value);
      assert.equal(f.pValue, policy2.policy.classify(f.score).pValue);
    }
    policy2.dispose();
  });
});
