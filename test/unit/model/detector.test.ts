import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, ModelError, SmaeError } from '../../../shared/errors.js';
import {
  activeBackend,
  adaptDetector,
  Detector,
  loadArtifact,
  percentile,
  saveArtifact,
  sealArtifact,
  trainDetector,
  type FeatureSpec,
  type ModelArtifact,
} from '../../../shared/model/index.js';
import { tf } from '../../../shared/model/tf.js';
import { syntheticRecords } from './fixtures.js';

const SPEC: FeatureSpec = {
  scaler: 'minmax',
  impute: 'error',
  features: [
    { kind: 'numeric', name: 'x1' },
    { kind: 'numeric', name: 'x2' },
    { kind: 'numeric', name: 'x3' },
    { kind: 'numeric', name: 'x4' },
    { kind: 'numeric', name: 'x5' },
    { kind: 'categorical', name: 'site' },
  ],
};
const TRAIN = syntheticRecords(400, 1);
const FRESH = syntheticRecords(60, 2);

function isModelError(code: string) {
  return (err: unknown) => err instanceof ModelError && err.code === code;
}

describe('Detector', () => {
  let detector: Detector;
  let dir: string;

  before(async () => {
    detector = await trainDetector(TRAIN, { spec: SPEC, fit: { epochs: 4, seed: 3 }, source: 'unit-test' });
    dir = await mkdtemp(join(tmpdir(), 'smae-model-'));
  });
  after(async () => {
    detector.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  test('the manifest describes the model: columns, architecture, threshold, training, backend', () => {
    const m = detector.manifest;
    assert.equal(m.format, 'smae-model/1');
    assert.deepEqual(m.preprocessing.columns, [
      'x1',
      'x2',
      'x3',
      'x4',
      'x5',
      'site=east',
      'site=north',
      'site=south',
      'site=<unknown>',
    ]);
    assert.equal(m.architecture.inputDim, 9);
    assert.deepEqual(m.weightShapes[0], [9, 8]);
    assert.equal(m.backend, activeBackend());
    assert.deepEqual(
      { pipeline: m.pipeline, version: m.version, parentVersion: m.parentVersion, adaptation: m.adaptation },
      { pipeline: null, version: null, parentVersion: null, adaptation: null },
    );
    assert.equal(m.training.rows, 400);
    assert.equal(m.training.epochs, 4);
    assert.equal(m.training.seed, 3);
    assert.equal(m.training.lossHistory.length, 4);
    assert.equal(m.training.source, 'unit-test');
    const { policy, ...info } = m.threshold;
    assert.deepEqual(
      { ...info, value: 0 },
      { value: 0, percentile: 95, reference: 'training', referenceRows: 400 },
    );
    assert.deepEqual(policy?.params, { percentile: 95 });
    assert.ok(!Number.isNaN(Date.parse(m.createdAt)));
  });

  test('the threshold is the 95th percentile of the training rows’ MSE', () => {
    const prepared = detector.prepare(TRAIN);
    const mse = detector.mse(prepared.matrix, prepared.rows);
    assert.equal(detector.policy.threshold, percentile(mse, 95));
    const flagged = mse.filter((v) => v > detector.policy.threshold).length;
    assert.equal(flagged, 20); // 5 % of 400 distinct values
  });

  test('scoreBatch: scores in input order, bad records as InputError in their place', () => {
    const records = [FRESH[0]!, { ...FRESH[1]!, x2: null }, FRESH[2]!, { ...FRESH[3]!, x1: 'abc' }];
    const out = detector.scoreBatch(records);
    assert.equal(out.length, 4);
    assert.ok(!(out[0] instanceof InputError) && !(out[2] instanceof InputError));
    assert.ok(out[1] instanceof InputError && out[1].code === 'MISSING_FIELD' && out[1].field === 'x2');
    assert.ok(out[3] instanceof InputError && out[3].code === 'WRONG_TYPE' && out[3].field === 'x1');
    const s = out[0] as Exclude<(typeof out)[0], InputError>;
    assert.equal(s.threshold, detector.policy.threshold);
    assert.equal(s.modelVersion, null);
    assert.equal(s.isAnomaly, s.score > s.threshold);
  });

  test('a row with one absurd value is flagged and explained by that feature, in raw units', () => {
    const [s] = detector.scoreBatch([{ ...FRESH[5]!, x3: 5000 }], { topK: 3 });
    assert.ok(s && !(s instanceof InputError));
    assert.equal(s.isAnomaly, true);
    assert.equal(s.contributions.length, 3);
    const top = s.contributions[0]!;
    assert.equal(top.feature, 'x3');
    assert.equal(top.value, 5000);
    assert.ok(top.expected > 0 && top.expected < 200, `expected ${top.expected} in the training range`);
    assert.ok(top.share > 0.9 && top.share <= 1);
    assert.ok(
      s.contributions[1]!.share <= top.share && s.contributions[2]!.share <= s.contributions[1]!.share,
    );
  });

  test('contribution shares over every column sum to 1; one-hot columns are named field=category', () => {
    const prepared = detector.prepare(FRESH.slice(0, 5));
    const scores = detector.scoreMatrix(prepared.matrix, prepared.rows, { topK: 9, explainAll: true });
    for (const s of scores) {
      assert.equal(s.contributions.length, 9);
      const total = s.contributions.reduce((sum, c) => sum + c.share, 0);
      assert.ok(Math.abs(total - 1) < 1e-6, `shares sum to ${total}`);
    }
    assert.ok(scores[0]!.contributions.some((c) => c.feature.startsWith('site=')));
    const unflagged = detector.scoreMatrix(prepared.matrix, prepared.rows).filter((s) => !s.isAnomaly);
    assert.ok(unflagged.length > 0 && unflagged.every((s) => s.contributions.length === 0));
  });

  test('an unseen category is scored (through the <unknown> slot), not refused', () => {
    const [s] = detector.scoreBatch([{ ...FRESH[0]!, site: 'west' }], { explainAll: true, topK: 9 });
    assert.ok(s && !(s instanceof InputError));
    const unknown = s.contributions.find((c) => c.feature === 'site=<unknown>');
    assert.equal(unknown?.value, 1);
  });

  test('prepare reports bad records with their input index and keeps the good ones in order', () => {
    const p = detector.prepare([FRESH[0]!, { x1: 1 }, FRESH[1]!]);
    assert.equal(p.rows, 2);
    assert.deepEqual(p.index, [0, 2]);
    assert.equal(p.matrix.length, 2 * 9);
    assert.deepEqual(
      p.errors.map((e) => [e.index, e.error.code]),
      [[1, 'MISSING_FIELD']],
    );
  });

  test('save and load round-trip to the same digest and identical scores', async () => {
    const path = join(dir, 'roundtrip');
    await saveArtifact(path, detector.toArtifact());
    const loaded = Detector.fromArtifact(await loadArtifact(path));
    try {
      assert.equal(loaded.toArtifact().digest, detector.toArtifact().digest);
      assert.deepEqual(loaded.manifest, detector.manifest);
      const records = [...FRESH, { ...FRESH[0]!, x4: -300 }];
      assert.deepEqual(
        loaded.scoreBatch(records, { explainAll: true }),
        detector.scoreBatch(records, { explainAll: true }),
      );
    } finally {
      loaded.dispose();
    }
  });

  test('a flipped weight byte is refused with INTEGRITY_CHECK_FAILED', async () => {
    const path = join(dir, 'flipped');
    await saveArtifact(path, detector.toArtifact());
    const weights = await readFile(join(path, 'weights.bin'));
    weights[17] = weights[17]! ^ 0x01;
    await writeFile(join(path, 'weights.bin'), weights);
    await assert.rejects(loadArtifact(path), isModelError('INTEGRITY_CHECK_FAILED'));
  });

  test('an edited threshold in manifest.json is refused with INTEGRITY_CHECK_FAILED', async () => {
    const path = join(dir, 'edited');
    await saveArtifact(path, detector.toArtifact());
    const manifest = JSON.parse(await readFile(join(path, 'manifest.json'), 'utf8'));
    manifest.threshold.value *= 10;
    await writeFile(join(path, 'manifest.json'), JSON.stringify(manifest, null, 2));
    await assert.rejects(loadArtifact(path), isModelError('INTEGRITY_CHECK_FAILED'));
  });

  test('fromArtifact verifies in-memory artifacts too', () => {
    const a = detector.toArtifact();
    const tampered: ModelArtifact = {
      ...a,
      manifest: { ...a.manifest, threshold: { ...a.manifest.threshold, value: 1e9 } },
    };
    assert.throws(() => Detector.fromArtifact(tampered), isModelError('INTEGRITY_CHECK_FAILED'));
    const weights = a.weights.slice();
    weights[0] = weights[0]! ^ 0x80;
    assert.throws(() => Detector.fromArtifact({ ...a, weights }), isModelError('INTEGRITY_CHECK_FAILED'));
  });

  test('a sealed but inconsistent artifact is INCOMPATIBLE_MODEL', () => {
    const a = detector.toArtifact();
    const m = structuredClone(a.manifest);
    m.preprocessing.columns = m.preprocessing.columns.slice(0, 8);
    m.preprocessing.offset = m.preprocessing.offset.slice(0, 8);
    m.preprocessing.scale = m.preprocessing.scale.slice(0, 8);
    assert.throws(
      () => Detector.fromArtifact(sealArtifact(m, a.weights)),
      isModelError('INCOMPATIBLE_MODEL'),
    );
    const nan = a.weights.slice();
    new DataView(nan.buffer).setFloat32(0, Number.NaN, true);
    assert.throws(
      () => Detector.fromArtifact(sealArtifact(structuredClone(a.manifest), nan)),
      isModelError('INCOMPATIBLE_MODEL'),
    );
  });

  test('scores carry the registry version when the artifact has one', () => {
    const a = detector.toArtifact();
    const published = Detector.fromArtifact(
      sealArtifact({ ...structuredClone(a.manifest), version: 7, pipeline: 'p' }, a.weights),
    );
    try {
      const [s] = published.scoreBatch([FRESH[0]!]);
      assert.equal((s as { modelVersion: number }).modelVersion, 7);
      assert.equal(published.version, 7);
    } finally {
      published.dispose();
    }
  });

  test('the manifest cannot be modified behind the digest', () => {
    assert.throws(() => {
      (detector.manifest.threshold as { value: number }).value = 0;
    }, TypeError);
  });
});

describe('adaptDetector', () => {
  test('adapts a copy, recomputes the threshold on the reference rows, records lineage', async () => {
    const base0 = await trainDetector(TRAIN, {
      spec: SPEC,
      fit: { epochs: 3, seed: 5 },
      source: 'unit-test',
    });
    const a = base0.toArtifact();
    const base = Detector.fromArtifact(
      sealArtifact({ ...structuredClone(a.manifest), version: 4 }, a.weights),
    );
    base0.dispose();
    const baseWeights = base.network.getWeights();
    const support = syntheticRecords(12, 9).map((r) => ({ ...r, x1: Number(r.x1) * 1.3 }));
    const reference = [...syntheticRecords(200, 10), { x1: 'broken' }];
    const adapted = await adaptDetector(base, support, reference, {
      steps: 5,
      policy: 'unit-test',
      stats: { window: 'w1' },
    });
    try {
      assert.deepEqual(base.network.getWeights(), baseWeights, 'the base is untouched');
      assert.notDeepEqual(adapted.network.getWeights(), baseWeights);
      const m = adapted.manifest;
      assert.equal(m.parentVersion, 4);
      assert.equal(m.version, null);
      assert.deepEqual(m.training, base.manifest.training);
      assert.equal(m.adaptation?.supportRows, 12);
      assert.equal(m.adaptation?.referenceRejected, 1);
      assert.equal(m.adaptation?.policy, 'unit-test');
      assert.equal(m.adaptation?.window, 'w1');
      assert.ok(m.adaptation!.lossAfter < m.adaptation!.lossBefore);
      assert.equal(m.threshold.reference, 'reference-window');
      assert.equal(m.threshold.referenceRows, 200);
      const prepared = adapted.prepare(reference.slice(0, 200));
      assert.equal(m.threshold.value, percentile(adapted.mse(prepared.matrix, prepared.rows), 95));
      // and it survives a save/load like any other model
      const again = Detector.fromArtifact(adapted.toArtifact());
      assert.deepEqual(again.scoreBatch(FRESH), adapted.scoreBatch(FRESH));
      again.dispose();
    } finally {
      base.dispose();
      adapted.dispose();
    }
  });

  test('refuses an adaptation without valid support rows', async () => {
    const base = await trainDetector(TRAIN.slice(0, 50), {
      spec: SPEC,
      fit: { epochs: 1, seed: 1 },
      source: 't',
    });
    try {
      await assert.rejects(
        adaptDetector(base, [{ x1: null }], TRAIN.slice(0, 10)),
        (err: unknown) => err instanceof SmaeError && err.code === 'INVALID_CONFIG',
      );
    } finally {
      base.dispose();
    }
  });
});

describe('trainDetector', () => {
  test('with adaptOn: the threshold is taken after the adaptation, as in the report', async () => {
    const support = syntheticRecords(10, 21).map((r) => ({ ...r, x2: Number(r.x2) * 2 }));
    const d = await trainDetector(TRAIN, {
      spec: SPEC,
      fit: { epochs: 2, seed: 8 },
      source: 'unit-test',
      adaptOn: support,
      threshold: { kind: 'percentile', params: { percentile: 90 } },
      calibrationFraction: 0,
    });
    try {
      const m = d.manifest;
      assert.equal(m.adaptation?.supportRows, 10);
      assert.equal(m.adaptation?.steps, 5);
      assert.equal(m.threshold.percentile, 90);
      const prepared = d.prepare(TRAIN);
      assert.equal(m.threshold.value, percentile(d.mse(prepared.matrix, prepared.rows), 90));
    } finally {
      d.dispose();
    }
  });

  test('infers the spec when none is given; same seed, same model', async () => {
    const rows = TRAIN.slice(0, 120);
    const [a, b] = await Promise.all(
      [1, 2].map(() => trainDetector(rows, { fit: { epochs: 2, seed: 11 }, source: 't' })),
    );
    try {
      assert.deepEqual(
        a!.manifest.preprocessing.spec.features.map((f) => `${f.kind}:${f.name}`),
        ['numeric:x1', 'numeric:x2', 'numeric:x3', 'numeric:x4', 'numeric:x5', 'categorical:site'],
      );
      assert.deepEqual(a!.network.getWeights(), b!.network.getWeights());
      assert.equal(a!.policy.threshold, b!.policy.threshold);
    } finally {
      a!.dispose();
      b!.dispose();
    }
  });

  test('memory stays flat over repeated training, scoring and adaptation', async () => {
    const rows = TRAIN.slice(0, 100);
    const warm = await trainDetector(rows, { spec: SPEC, fit: { epochs: 1, seed: 1 }, source: 't' });
    warm.dispose();
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const d = await trainDetector(rows, {
        spec: SPEC,
        fit: { epochs: 1, seed: i },
        source: 't',
        adaptOn: rows.slice(0, 10),
      });
      d.scoreBatch(FRESH, { explainAll: true });
      const ad = await adaptDetector(d, rows.slice(0, 10), rows);
      ad.scoreBatch([FRESH[0]!]);
      Detector.fromArtifact(ad.toArtifact()).dispose();
      ad.dispose();
      d.dispose();
      assert.equal(tf.memory().numTensors, baseline, `round ${i}`);
    }
  });
});
