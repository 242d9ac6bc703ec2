import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError } from '../../../shared/errors.js';
import {
  adaptDetector,
  Detector,
  initBackend,
  sealArtifact,
  trainDetector,
} from '../../../shared/model/index.js';
import { restorePolicy } from '../../../shared/threshold/policy.js';
import type { ConformalPolicy } from '../../../shared/threshold/conformal.js';
import { syntheticRecords } from './fixtures.js';

const TRAIN = syntheticRecords(400, 1);
const FRESH = syntheticRecords(60, 2);

describe('trainDetector with a threshold policy', () => {
  test('holds out calibration rows the network never sees and fits the policy on their scores', async () => {
    await initBackend({ prefer: 'cpu' });
    const d = await trainDetector(TRAIN, {
      fit: { epochs: 2, seed: 4 },
      source: 'unit-test',
      threshold: { kind: 'conformal', params: { alpha: 0.05 } },
    });
    try {
      const m = d.manifest;
      assert.equal(m.training.rows, 320, '80 % trained on');
      assert.equal(m.threshold.reference, 'held-out calibration');
      assert.equal(m.threshold.referenceRows, 80);
      assert.equal(m.threshold.percentile, undefined);
      assert.equal(m.threshold.policy?.kind, 'conformal');
      // The calibration scores are exactly the scores of the 80 rows left out of training.
      const calibration = (m.threshold.policy?.state as { calibration: number[] }).calibration;
      const prepared = d.prepare(TRAIN);
      const all = Array.from(d.mse(prepared.matrix, prepared.rows));
      const counts = new Map<number, number>();
      for (const v of all) counts.set(v, (counts.get(v) ?? 0) + 1);
      for (const c of calibration) assert.ok(counts.has(Math.fround(c)) || counts.has(c), `score ${c}`);
      // Scores carry the policy's threshold and p-value; the decision is p ≤ α.
      const policy = restorePolicy(m.threshold.policy);
      for (const s of d.scoreBatch(FRESH)) {
        assert.ok(!(s instanceof Error));
        assert.equal(s.threshold, m.threshold.value);
        assert.equal(s.pValue, policy.classify(s.score).pValue);
        assert.equal(s.isAnomaly, s.pValue! <= 0.05);
      }
    } finally {
      d.dispose();
    }
  });

  test('the same seed holds out the same rows; the report rule holds out none', async () => {
    const opts = {
      fit: { epochs: 1, seed: 9 },
      source: 't',
      threshold: { kind: 'spot', params: { q: 0.05 } },
    } as const;
    const [a, b] = await Promise.all([trainDetector(TRAIN, opts), trainDetector(TRAIN, opts)]);
    const r = await trainDetector(TRAIN, { fit: { epochs: 1, seed: 9 }, source: 't' });
    try {
      assert.deepEqual(a.manifest.threshold, b.manifest.threshold);
      assert.equal(a.manifest.threshold.policy?.kind, 'spot');
      assert.equal(r.manifest.training.rows, 400);
      assert.equal(r.manifest.threshold.reference, 'training');
      assert.equal(r.manifest.threshold.policy?.kind, 'percentile');
    } finally {
      for (const d of [a, b, r]) d.dispose();
    }
  });

  /** A one-epoch detector on `rows` with a conformal policy at a 1 % target. */
  const conformalAtOnePercent = (rows: typeof TRAIN, seed: number) =>
    trainDetector(rows, {
      fit: { epochs: 1, seed },
      source: 't',
      threshold: { kind: 'conformal', params: { alpha: 0.01 } },
    });

  test('a small table holds out the calibration rows a 1 % target needs', async () => {
    const d = await conformalAtOnePercent(TRAIN.slice(0, 300), 2);
    try {
      assert.equal(d.manifest.training.rows, 191, '300 rows less the 109 held out (20 % would be 60)');
      assert.ok(d.manifest.threshold.referenceRows! >= 99, 'enough scores for p ≤ 0.01');
    } finally {
      d.dispose();
    }
  });

  test('a table too small for ⌈1/α⌉ − 1 calibration rows gets its threshold from the tail beyond them', async () => {
    const d = await conformalAtOnePercent(TRAIN.slice(0, 100), 1);
    try {
      const policy = d.policy as ConformalPolicy;
      assert.equal(d.manifest.threshold.referenceRows, 50, 'half the rows held out');
      assert.equal(policy.extrapolated, true);
      assert.ok(
        policy.threshold > Math.max(...policy.state.calibration),
        'beyond the largest calibration score',
      );
    } finally {
      d.dispose();
    }
  });

  test('fewer calibration rows than the tail needs is CALIBRATION_FAILED', async () => {
    await assert.rejects(
      trainDetector(TRAIN.slice(0, 30), {
        fit: { epochs: 1, seed: 1 },
        source: 't',
        threshold: { kind: 'conformal', params: { alpha: 0.01 } },
      }),
      (err: unknown) => err instanceof ModelError && err.code === 'CALIBRATION_FAILED',
    );
  });
});

describe('adaptDetector refits the base model’s policy', () => {
  test('same kind and parameters, fitted on the reference rows', async () => {
    const base = await trainDetector(TRAIN, {
      fit: { epochs: 2, seed: 3 },
      source: 't',
      threshold: { kind: 'conformal', params: { alpha: 0.05 } },
    });
    const reference = syntheticRecords(150, 5);
    const adapted = await adaptDetector(base, syntheticRecords(12, 6), reference, { steps: 3 });
    try {
      const t = adapted.manifest.threshold;
      assert.equal(t.policy?.kind, 'conformal');
      assert.deepEqual(t.policy?.params, { alpha: 0.05 });
      assert.equal(t.reference, 'reference-window');
      assert.equal(t.referenceRows, 150);
      const prepared = adapted.prepare(reference);
      const scores = Array.from(adapted.mse(prepared.matrix, prepared.rows)).sort((x, y) => x - y);
      // α(n + 1) = 7.55 → k = 6 scores may lie at or above: threshold = the 144th smallest of 150.
      assert.equal(t.value, scores[143]);
      assert.equal(adapted.manifest.adaptation?.previousThreshold, base.manifest.threshold.value);
      // It survives sealing and verification like any model.
      const again = Detector.fromArtifact(sealArtifact(adapted.manifest, adapted.toArtifact().weights));
      assert.deepEqual(again.scoreBatch(FRESH), adapted.scoreBatch(FRESH));
      again.dispose();
    } finally {
      base.dispose();
      adapted.dispose();
    }
  });
});
