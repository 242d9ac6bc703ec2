import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ModelError } from '../../../shared/errors.js';
import { MIN_PEAKS, SpotPolicy, defaultInitialLevel } from '../../../shared/threshold/spot.js';
import { percentile } from '../../../shared/threshold/percentile.js';
import { exponential, pareto } from './samples.js';

// Tolerances: over 40 seeds of 20,000 scores at q = 1e-3 (400 peaks above the 0.98 level), the relative
// error of the threshold had a 95th percentile of 5.6 % (exponential) and 12.4 % (Pareto α = 3; a heavy
// tail estimates less precisely). The tests allow 8 % and 16 % on fixed seeds.
const N = 20_000;
const Q = 1e-3;

describe('spot policy (peaks over threshold)', () => {
  for (const seed of [1, 2, 3]) {
    test(`exponential sample (seed ${seed}): threshold within 8 % of the true (1 − q)-quantile −ln q`, () => {
      const policy = SpotPolicy.fit({ q: Q }, exponential(N, seed), 'calibration');
      const truth = -Math.log(Q);
      assert.ok(Math.abs(policy.threshold / truth - 1) < 0.08, `${policy.threshold} vs ${truth}`);
      assert.equal(policy.state.peaks, 400);
      assert.notEqual(policy.state.estimator, 'empirical');
    });

    test(`Pareto α = 3 sample (seed ${seed}): threshold within 16 % of q^(−1/3) = 10`, () => {
      const policy = SpotPolicy.fit({ q: Q }, pareto(N, 3, seed), 'calibration');
      assert.ok(Math.abs(policy.threshold / 10 - 1) < 0.16, `${policy.threshold} vs 10`);
      // ξ's standard error with 400 peaks is about (1 + ξ)/√400 ≈ 0.07; 3 of them allowed.
      assert.ok(Math.abs(policy.state.shape! - 1 / 3) < 0.2, `shape ${policy.state.shape}`);
    });
  }

  test('extrapolates beyond the largest calibration score when 1/q exceeds n', () => {
    // 5,000 scores, q = 1e-4 (100 peaks): over 40 seeds the 95th percentile of the relative error was 24 %.
    const scores = exponential(5000, 5);
    const policy = SpotPolicy.fit({ q: 1e-4 }, scores, 'calibration');
    const truth = -Math.log(1e-4);
    assert.ok(policy.threshold > Math.max(...scores));
    assert.ok(Math.abs(policy.threshold / truth - 1) < 0.3, `${policy.threshold} vs ${truth}`);
  });

  test('the tail probability at the threshold is q, and it falls as the score rises', () => {
    const policy = SpotPolicy.fit({ q: 0.01 }, exponential(N, 9), 'calibration');
    const c = policy.classify(policy.threshold);
    assert.equal(c.flagged, false, 'a score equal to the threshold is normal');
    assert.ok(Math.abs(c.pValue! / 0.01 - 1) < 1e-9, `tail probability ${c.pValue}`);
    const higher = policy.classify(policy.threshold * 1.5);
    assert.equal(higher.flagged, true);
    assert.ok(higher.pValue! < 0.01);
    assert.equal(policy.classify(policy.state.initialThreshold * 0.5).pValue, null, 'no tail below t');
  });

  test('initial threshold is the numpy percentile at the initial level; default level min(0.98, 1 − 2q)', () => {
    const scores = exponential(5000, 4);
    const policy = SpotPolicy.fit({ q: 0.01 }, scores, 'calibration');
    assert.equal(policy.params.initialLevel, 0.98);
    assert.equal(policy.state.initialThreshold, percentile(scores, 98));
    assert.equal(defaultInitialLevel(0.05), 0.9);
  });

  test(`fewer than ${MIN_PEAKS} peaks fall back to the empirical (1 − q)-quantile, and say so`, () => {
    const scores = exponential(300, 2);
    const policy = SpotPolicy.fit({ q: 0.01 }, scores, 'calibration');
    assert.equal(policy.state.estimator, 'empirical');
    assert.equal(policy.threshold, percentile(scores, 99));
    assert.equal(policy.classify(1e9).pValue, null);
  });

  test('round-trips through JSON and refits with the same parameters', () => {
    const policy = SpotPolicy.fit({ q: 0.01, initialLevel: 0.95 }, pareto(3000, 3, 1), 'calibration');
    const json = JSON.parse(JSON.stringify(policy)) as unknown;
    const back = SpotPolicy.fromJSON(json as { params: unknown; state: unknown });
    assert.deepEqual(back.toJSON(), policy.toJSON());
    assert.deepEqual(back.classify(7), policy.classify(7));
    const refitted = policy.refit(exponential(3000, 2), 'reference-window');
    assert.deepEqual(refitted.params, policy.params);
    assert.equal(refitted.state.reference, 'reference-window');
    assert.notEqual(refitted.threshold, policy.threshold);
  });

  test('bad parameters are a ConfigError naming each one', () => {
    const bad = (params: unknown, path: string) =>
      assert.throws(
        () => SpotPolicy.fit(params, exponential(100, 1), 'calibration'),
        (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.path === path),
      );
    bad({ q: 0 }, 'spot.q');
    bad({ q: 1.5 }, 'spot.q');
    bad({ q: 0.05, initialLevel: 0.98 }, 'spot.q');
    bad({ q: 0.01, initialLevel: 1 }, 'spot.initialLevel');
    bad({ q: 0.01, extra: 1 }, 'spot');
  });

  test('non-finite or missing calibration scores are CALIBRATION_FAILED', () => {
    for (const scores of [[], [1, 2, Number.NaN]]) {
      assert.throws(
        () => SpotPolicy.fit({ q: 0.01 }, scores, 'calibration'),
        (err: unknown) => err instanceof ModelError && err.code === 'CALIBRATION_FAILED',
      );
    }
  });

  test('inconsistent state read back is INCOMPATIBLE_MODEL', () => {
    const json = SpotPolicy.fit({ q: 0.01 }, exponential(5000, 1), 'calibration').toJSON();
    assert.throws(
      () => SpotPolicy.fromJSON({ ...json, state: { ...json.state, scale: -1 } }),
      (err: unknown) => err instanceof ModelError && err.code === 'INCOMPATIBLE_MODEL',
    );
    assert.throws(
      () => SpotPolicy.fromJSON({ ...json, state: { ...json.state, estimator: 'empirical' } }),
      (err: unknown) => err instanceof ModelError && err.code === 'INCOMPATIBLE_MODEL',
    );
  });
});
