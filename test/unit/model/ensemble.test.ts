import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adaptDetector,
  Detector,
  trainDetector,
  type FeatureSpec,
  type Score,
} from '../../../shared/model/index.js';
import {
  calibrate,
  CALIBRATION_FOLDS,
  columnLevels,
  EnsembleScorer,
  fitMemberScoring,
  fitScoring,
  memberSeedOf,
  memberSubsample,
  thresholdInResidualUnits,
  residualSpreads,
} from '../../../shared/model/ensemble.js';
import { profileSettings } from '../../../shared/model/profile.js';
import { tf } from '../../../shared/model/tf.js';
import { takeRows } from '../../../shared/threshold/holdout.js';
import { syntheticRecords } from './fixtures.js';

const SPEC: FeatureSpec = {
  scaler: 'minmax',
  impute: 'error',
  features: ['x1', 'x2', 'x3', 'x4', 'x5'].map((name) => ({ kind: 'numeric' as const, name })),
};
const TRAIN = syntheticRecords(600, 1).map(({ site: _site, ...r }) => r);
const FRESH = syntheticRecords(150, 2).map(({ site: _site, ...r }) => r);
const SMALL = profileSettings('default', { members: 3, epochs: 3 });

describe('robust residual score statistics', () => {
  test('per-feature median/MAD, then the raw score normalised by its median and p90 − median', () => {
    // 5 rows × 2 features; feature 1 has one wild residual.
    const r = Float64Array.from([0, 1, 1, 2, 2, 3, 3, 4, 4, 1000]);
    const s = fitMemberScoring(r, 5, 2);
    assert.deepEqual(s.center, [2, 3]);
    // MAD of [0 1 2 3 4] about 2 is 1; of [1 2 3 4 1000] about 3 is 1: one wild value moves neither.
    assert.ok(Math.abs(s.spread[0]! - 1.4826) < 1e-12);
    assert.ok(Math.abs(s.spread[1]! - 1.4826) < 1e-12);
    assert.ok(s.scoreScale > 0);
  });

  test('spreads by what the input takes: MAD if continuous, standard deviation if two-valued, the median if constant', () => {
    // Input: column 0 continuous, column 1 one-hot (0/1), column 2 a slot no row uses.
    const x = Float32Array.from([0.1, 1, 0, 0.4, 0, 0, 0.9, 0, 0, 0.3, 1, 0, 0.6, 0, 0]);
    assert.deepEqual(columnLevels(x, 5, 3), ['continuous', 'binary', 'constant']);
    // Residuals: column 1 reconstructed almost exactly on four rows and confused on one (the MAD sees
    // only the first mode); column 2 wobbles by 1e-4.
    const r = Float64Array.from([
      0.1, 0.01, 1e-4, -0.1, -0.01, -1e-4, 0.2, 0.01, 2e-4, 0, -0.01, 0, -0.2, 0.6, 1e-4,
    ]);
    const { spread } = residualSpreads(r, 5, 3, columnLevels(x, 5, 3));
    const sd1 = Math.sqrt(
      [0.01, -0.01, 0.01, -0.01, 0.6].reduce((a, v, _, all) => {
        const m = all.reduce((p, q) => p + q, 0) / all.length;
        return a + (v - m) ** 2 / all.length;
      }, 0),
    );
    assert.ok(Math.abs(spread[0]! - 1.4826 * 0.1) < 1e-12);
    assert.ok(Math.abs(spread[1]! - sd1) < 1e-12);
    assert.equal(spread[2], (spread[0]! + spread[1]!) / 2);
    // Without levels every column is continuous: the confused one-hot row would be ~20 spreads off.
    const plain = residualSpreads(r, 5, 3).spread;
    assert.ok(plain[1]! < 0.04);
    const s = fitMemberScoring(r, 5, 3, columnLevels(x, 5, 3));
    assert.deepEqual(s.spread, spread);
  });
});

describe('calibrate: cross-fitted calibration scores', () => {
  test('each fold is scored by statistics fitted without it; the model keeps the statistics of all rows', async () => {
    const detector = await trainDetector(TRAIN, {
      spec: SPEC,
      source: 'test',
      profile: SMALL,
      fit: { seed: 4 },
    });
    const nets = detector.networks;
    const x = detector.preprocessor.transform(FRESH.slice(0, 60));
    const d = detector.preprocessor.width;
    const { scoring, scores } = calibrate(nets, 'robust-tail', x, 60, 'c');
    assert.deepEqual(scoring, fitScoring(nets, 'robust-tail', x, 60, 'c'));
    const fold = Array.from({ length: 60 }, (_, i) => i).filter((i) => i % CALIBRATION_FOLDS === 2);
    const rest = Array.from({ length: 60 }, (_, i) => i).filter((i) => i % CALIBRATION_FOLDS !== 2);
    const foldScoring = fitScoring(nets, 'robust-tail', takeRows(x, d, rest), rest.length, 'c');
    const expected = new EnsembleScorer(nets, foldScoring).score(takeRows(x, d, fold), fold.length).score;
    assert.deepEqual(
      fold.map((i) => scores[i]),
      Array.from(expected),
    );
    // In-sample scores sit lower than scores of rows the statistics never saw (what made thresholds low).
    const inSample = new EnsembleScorer(nets, scoring).score(x, 60).score;
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    assert.ok(mean(scores) > mean(inSample), `cross-fitted ${mean(scores)} vs in-sample ${mean(inSample)}`);
    detector.dispose();
  });
});

describe('memberSubsample', () => {
  test('splits the rows into a sorted fitting share and the rest, the same for the same seed', () => {
    const a = memberSubsample(1000, 0.5, memberSeedOf(7, 3));
    assert.equal(a.fit.length, 500);
    assert.equal(a.rest.length, 500);
    assert.ok(a.fit.every((v, i) => i === 0 || a.fit[i - 1]! < v));
    assert.deepEqual(
      [...a.fit, ...a.rest].sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.deepEqual(memberSubsample(1000, 0.5, memberSeedOf(7, 3)), a);
    assert.notDeepEqual(memberSubsample(1000, 0.5, memberSeedOf(7, 4)).fit, a.fit);
  });

  test('keeps at least 256 rows, or all of a smaller table', () => {
    assert.equal(memberSubsample(400, 0.5, 1).fit.length, 256);
    assert.equal(memberSubsample(100, 0.5, 1).fit.length, 100);
    assert.equal(memberSubsample(100, 0.5, 1).rest.length, 0);
  });

  test('member 0 uses the seed itself', () => {
    assert.equal(memberSeedOf(42, 0), 42);
    assert.notEqual(memberSeedOf(42, 1), 42);
  });
});

describe('thresholdInResidualUnits', () => {
  test('the mse threshold is itself; a robust one is each member’s raw score at it times its mean squared spread', () => {
    assert.equal(thresholdInResidualUnits(0.3, undefined), 0.3);
    assert.equal(
      thresholdInResidualUnits(0.3, { kind: 'mse', members: [], calibrationRows: 9, reference: 'x' }),
      0.3,
    );
    const member = (spread: number[], scoreCenter: number, scoreScale: number) => ({
      center: spread.map(() => 0),
      spread,
      scoreCenter,
      scoreScale,
    });
    // Member 1: (1 + 2·0.5) · (0.1² + 0.3²)/2 = 2 · 0.05 = 0.1; member 2: (0 + 2·2) · 0.2² = 0.16.
    const scoring = {
      kind: 'robust-residual' as const,
      members: [member([0.1, 0.3], 1, 0.5), member([0.2, 0.2], 0, 2)],
      calibrationRows: 100,
      reference: 'calibration',
    };
    assert.ok(Math.abs(thresholdInResidualUnits(2, scoring) - 0.13) < 1e-12);
    // Spreads twice as wide: the same normalised threshold takes residuals twice as large (4× in squares).
    const wider = {
      ...scoring,
      members: scoring.members.map((m) => ({ ...m, spread: m.spread.map((s) => 2 * s) })),
    };
    assert.ok(Math.abs(thresholdInResidualUnits(2, wider) - 0.52) < 1e-12);
  });
});

describe('a default-profile detector', () => {
  test('records its profile, scoring and members under the digest, and round-trips through an artifact', async () => {
    const before = tf.memory().numTensors;
    const d = await trainDetector(TRAIN, { spec: SPEC, source: 'test', fit: { seed: 5 }, profile: SMALL });
    try {
      const m = d.manifest;
      assert.equal(m.ensemble?.profile.name, 'default');
      assert.equal(m.ensemble?.scoring.kind, 'robust-tail');
      assert.equal(m.ensemble?.members.length, 3);
      assert.equal(m.ensemble?.scoring.members.length, 3);
      assert.equal(m.threshold.policy?.kind, 'conformal');
      assert.equal(m.threshold.reference, 'held-out calibration');
      assert.equal(m.threshold.referenceRows, 120); // 20 % of 600, never fitted on
      assert.equal(m.weightShapes.length, 3 * 10);
      assert.equal(d.networks.length, 3);

      const artifact = d.toArtifact();
      const again = Detector.fromArtifact(artifact);
      try {
        const p = d.prepare(FRESH);
        assert.deepEqual(Array.from(again.mse(p.matrix, p.rows)), Array.from(d.mse(p.matrix, p.rows)));
      } finally {
        again.dispose();
      }
      // The scoring statistics are under the digest: editing them is refused.
      const edited = structuredClone(artifact);
      edited.manifest.ensemble!.scoring.members[0]!.scoreScale *= 2;
      assert.throws(() => Detector.fromArtifact(edited), /digest/);
    } finally {
      d.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });

  test('explanations follow the robust score: shares of its per-feature terms, summing to 1 over all features', async () => {
    const d = await trainDetector(TRAIN, { spec: SPEC, source: 'test', fit: { seed: 6 }, profile: SMALL });
    try {
      const odd = [{ ...FRESH[0]!, x3: 1e4 }];
      const [s] = d.scoreBatch(odd, { topK: 5 });
      assert.ok(s && !(s instanceof Error));
      assert.equal(s.isAnomaly, true);
      assert.equal(s.contributions[0]!.feature, 'x3');
      const total = s.contributions.reduce((a, c) => a + c.share, 0);
      assert.ok(Math.abs(total - 1) < 1e-4, `shares sum to ${total}`);
      // Among ordinary rows, only the flagged one is explained, exactly as when every row is.
      const batch = [...FRESH.slice(1, 40), odd[0]!];
      const some = d.scoreBatch(batch, { topK: 5 }) as Score[];
      const all = d.scoreBatch(batch, { topK: 5, explainAll: true }) as Score[];
      some.forEach((x, i) => {
        assert.equal(x.score, all[i]!.score);
        if (x.isAnomaly) assert.deepEqual(x.contributions, all[i]!.contributions);
        else assert.deepEqual(x.contributions, []);
      });
      assert.deepEqual(some.at(-1)!.contributions, s.contributions);
    } finally {
      d.dispose();
    }
  });

  test('adaptation adapts every member and refits the scoring and the policy on the reference rows', async () => {
    const base = await trainDetector(TRAIN, { spec: SPEC, source: 'test', fit: { seed: 7 }, profile: SMALL });
    try {
      const adapted = await adaptDetector(base, FRESH.slice(0, 10), FRESH);
      try {
        assert.equal(adapted.networks.length, 3);
        assert.equal(adapted.manifest.threshold.reference, 'reference-window');
        assert.equal(adapted.manifest.ensemble?.scoring.reference, 'reference-window');
        assert.equal(adapted.manifest.threshold.policy?.kind, 'conformal');
        // The refit's sampling interval on the reference scores, for the threshold-step guardrail.
        const [low, high] = adapted.manifest.adaptation!.thresholdInterval!;
        const t = adapted.manifest.threshold.value;
        // (150 reference rows: the conformal threshold is their largest score, the interval's top.)
        assert.ok(low < t && t <= high, `${low} < ${t} ≤ ${high}`);
        // The output bias always receives a gradient (earlier layers not, behind a dead bottleneck).
        for (let k = 0; k < 3; k++) {
          assert.notDeepEqual(adapted.networks[k]!.getWeights()[9], base.networks[k]!.getWeights()[9]);
        }
        assert.doesNotThrow(() => Detector.fromArtifact(adapted.toArtifact()).dispose());
      } finally {
        adapted.dispose();
      }
    } finally {
      base.dispose();
    }
  });

  test("an inferred feature spec scales with the profile's scaler unless the caller names one", async () => {
    const train = async (scaler?: 'standard' | 'none') => {
      const d = await trainDetector(TRAIN, {
        source: 'test',
        fit: { seed: 9 },
        profile: profileSettings('report', { epochs: 1, scale: 'standard' }),
        ...(scaler !== undefined ? { infer: { scaler } } : {}),
      });
      const kind = d.manifest.preprocessing.spec.scaler;
      d.dispose();
      return kind;
    };
    assert.equal(await train(), 'standard');
    assert.equal(await train('none'), 'none');
  });

  test("the report profile's manifest records it: one network, MSE, the 95th percentile of training scores", async () => {
    const d = await trainDetector(TRAIN, {
      spec: SPEC,
      source: 'test',
      fit: { seed: 8 },
      profile: profileSettings('report', { epochs: 2 }),
    });
    try {
      assert.equal(d.manifest.ensemble?.profile.name, 'report');
      assert.equal(d.manifest.ensemble?.scoring.kind, 'mse');
      assert.equal(d.manifest.threshold.reference, 'training');
      assert.equal(d.networks.length, 1);
    } finally {
      d.dispose();
    }
  });
});
