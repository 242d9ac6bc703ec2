import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ModelError } from '../../../shared/errors.js';
import {
  ConformalPolicy,
  MIN_ROWS,
  TAIL_FIT,
  minConformalRows,
} from '../../../shared/threshold/conformal.js';
import { exponential, uniform } from './samples.js';

describe('conformal policy (split-conformal p-values)', () => {
  test('p = (1 + #{cal ≥ s}) / (n + 1) on a hand-computed calibration set', () => {
    const policy = ConformalPolicy.fit({ alpha: 0.2 }, [5, 1, 4, 2, 3, 9, 7, 8, 6, 10], 'calibration');
    assert.equal(policy.classify(10.5).pValue, 1 / 11);
    assert.equal(policy.classify(10).pValue, 2 / 11);
    assert.equal(policy.classify(9.5).pValue, 2 / 11);
    assert.equal(policy.classify(0).pValue, 1);
    // α(n + 1) = 2.2 → k = 1 score may lie at or above s: threshold = the 9th smallest = 9.
    assert.equal(policy.threshold, 9);
    assert.equal(policy.classify(9).flagged, false);
    assert.equal(policy.classify(9.01).flagged, true);
    // Ten scores are enough for α = 0.2 (no tail needed): the fitted state loads back.
    assert.equal(ConformalPolicy.fromJSON(JSON.parse(JSON.stringify(policy))).threshold, 9);
  });

  test('flagged ⇔ p ≤ α, for every score on a grid', () => {
    const policy = ConformalPolicy.fit({ alpha: 0.05 }, exponential(499, 3), 'calibration');
    for (let s = 0; s < 8; s += 0.01) {
      const c = policy.classify(s);
      assert.equal(c.flagged, c.pValue! <= 0.05 + 1e-12, `score ${s}: p ${c.pValue}`);
    }
  });

  test('false-positive rate on exchangeable scores is at most α plus sampling error', () => {
    // 200 calibration draws of n = 999 (α(n + 1) = 10, so the exact rate is 0.01), each tested on 2,000
    // fresh scores from the same distribution: 400,000 decisions, standard error ≈ 0.0005 around 0.01.
    const alpha = 0.01;
    let flagged = 0;
    let total = 0;
    for (let draw = 0; draw < 200; draw++) {
      const policy = ConformalPolicy.fit({ alpha }, exponential(999, 1000 + draw), 'calibration');
      for (const s of exponential(2000, 5000 + draw)) {
        flagged += policy.classify(s).flagged ? 1 : 0;
        total++;
      }
    }
    const fpr = flagged / total;
    const se = Math.sqrt((alpha * (1 - alpha)) / total) + Math.sqrt(alpha / 999 / 200);
    assert.ok(fpr <= alpha + 3 * se, `FPR ${fpr} > α + 3·se (${alpha + 3 * se})`);
    assert.ok(fpr >= alpha - 3 * se, `FPR ${fpr} far below α: the policy is needlessly conservative`);
  });

  test('targetFpr is ⌊α(n + 1)⌋ / (n + 1)', () => {
    assert.equal(ConformalPolicy.fit({ alpha: 0.01 }, uniform(999, 1), 'c').targetFpr, 0.01);
    assert.equal(ConformalPolicy.fit({ alpha: 0.01 }, uniform(150, 1), 'c').targetFpr, 1 / 151);
  });

  test('sets far scores aside as likely anomalies, unless the scores are known clean', () => {
    // 98 scores 1..98 and two far ones; with α = 0.1, k = ⌊α(n + 1)⌋ − 1 scores lie above the threshold.
    const scores = [...Array.from({ length: 98 }, (_, i) => i + 1), 5000, 9000];
    const guarded = ConformalPolicy.fit({ alpha: 0.1 }, scores, 'c');
    assert.equal(guarded.state.referenceRows, 98); // the two far ones set aside
    assert.equal(guarded.threshold, 90); // ⌊0.1 · 99⌋ − 1 = 8 above it: 91..98
    const clean = ConformalPolicy.fit({ alpha: 0.1 }, scores, 'c', { clean: true });
    assert.equal(clean.state.referenceRows, 100);
    assert.equal(clean.threshold, 91); // 9 above: 92..98, 5000, 9000
  });

  test('beyond the largest calibration score the p-value falls along an exponential tail', () => {
    const cal = exponential(999, 11);
    const policy = ConformalPolicy.fit({ alpha: 0.01 }, cal, 'c', { clean: true });
    const sorted = [...cal].sort((a, b) => a - b);
    const max = sorted[998]!;
    const beta = sorted.slice(989).reduce((a, v) => a + (v - sorted[988]!), 0) / TAIL_FIT;
    assert.equal(policy.classify(max).pValue, 2 / 1000);
    assert.ok(Math.abs(policy.classify(max + 1e-12).pValue! - 1 / 1000) < 1e-12);
    assert.ok(Math.abs(policy.classify(max + beta).pValue! - Math.exp(-1) / 1000) < 1e-15);
    assert.ok(policy.classify(max + 5).pValue! < policy.classify(max + 1).pValue!);
    assert.equal(policy.extrapolated, false);
    assert.equal(policy.threshold, sorted[989]); // k = 9: unchanged by the tail
  });

  test('fewer than ⌈1/α⌉ − 1 scores: the threshold for α lies on the tail, and recovers an exponential quantile', () => {
    assert.equal(minConformalRows(0.01), 99);
    const one = ConformalPolicy.fit({ alpha: 0.01 }, exponential(49, 1), 'c', { clean: true });
    assert.equal(one.extrapolated, true);
    assert.equal(one.targetFpr, 0.01);
    assert.match(one.describe(), /exponential tail/);
    for (const s of [one.threshold - 1e-9, one.threshold + 1e-9]) {
      const c = one.classify(s);
      assert.equal(c.flagged, c.pValue! < 0.01, `score ${s}: p ${c.pValue}`);
    }
    // Exp(1) scores: the top 10's mean excess estimates the scale 1 (memorylessness), so the threshold is
    // close to the true 99th percentile ln 100 ≈ 4.61 and its false-positive rate exp(−t) close to 0.01.
    // Over 400 draws of 49 scores (the plain rule would need 99): mean rate within [0.007, 0.015].
    let rate = 0;
    for (let draw = 0; draw < 400; draw++) {
      rate += Math.exp(
        -ConformalPolicy.fit({ alpha: 0.01 }, exponential(49, 100 + draw), 'c', { clean: true }).threshold,
      );
    }
    rate /= 400;
    assert.ok(rate > 0.007 && rate < 0.015, `mean false-positive rate ${rate}`);
  });

  test('a state on the tail round-trips; with fewer than MIN_ROWS scores it is INCOMPATIBLE_MODEL', () => {
    const policy = ConformalPolicy.fit({ alpha: 0.01 }, exponential(49, 2), 'c', { clean: true });
    const json = JSON.parse(JSON.stringify(policy)) as ReturnType<ConformalPolicy['toJSON']>;
    assert.equal(ConformalPolicy.fromJSON(json).threshold, policy.threshold);
    const few = json.state.calibration.slice(-MIN_ROWS + 1);
    assert.throws(
      () =>
        ConformalPolicy.fromJSON({
          ...json,
          state: { ...json.state, calibration: few, referenceRows: few.length },
        }),
      (err: unknown) => err instanceof ModelError && err.code === 'INCOMPATIBLE_MODEL',
    );
  });

  test('fewer than MIN_ROWS scores, or a tail of ties, is CALIBRATION_FAILED', () => {
    const failed = (err: unknown) => err instanceof ModelError && err.code === 'CALIBRATION_FAILED';
    ConformalPolicy.fit({ alpha: 0.01 }, uniform(MIN_ROWS, 1), 'c');
    assert.throws(() => ConformalPolicy.fit({ alpha: 0.01 }, uniform(MIN_ROWS - 1, 1), 'c'), failed);
    const ties = [...uniform(30, 1).map((v) => v * 0.5), ...Array.from({ length: 11 }, () => 0.9)];
    assert.throws(() => ConformalPolicy.fit({ alpha: 0.01 }, ties, 'c', { clean: true }), failed);
  });

  test('round-trips through JSON; a tampered state is INCOMPATIBLE_MODEL', () => {
    const policy = ConformalPolicy.fit({ alpha: 0.05 }, uniform(200, 2), 'calibration');
    const json = JSON.parse(JSON.stringify(policy)) as ReturnType<ConformalPolicy['toJSON']>;
    const back = ConformalPolicy.fromJSON(json);
    assert.deepEqual(back.toJSON(), policy.toJSON());
    assert.deepEqual(back.classify(0.97), policy.classify(0.97));
    const incompatible = (err: unknown) => err instanceof ModelError && err.code === 'INCOMPATIBLE_MODEL';
    assert.throws(
      () => ConformalPolicy.fromJSON({ ...json, state: { ...json.state, threshold: 0.5 } }),
      incompatible,
    );
    const unsorted = [...json.state.calibration].reverse();
    assert.throws(
      () => ConformalPolicy.fromJSON({ ...json, state: { ...json.state, calibration: unsorted } }),
      incompatible,
    );
  });

  test('bad α is a ConfigError', () => {
    for (const alpha of [0, 1, -0.1, Number.NaN, '0.1'])
      assert.throws(() => ConformalPolicy.fit({ alpha }, uniform(200, 1), 'c'), ConfigError);
  });
});
