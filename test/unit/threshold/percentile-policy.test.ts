import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ModelError } from '../../../shared/errors.js';
import { PercentilePolicy } from '../../../shared/threshold/percentile-policy.js';

describe('percentile policy (the report rule)', () => {
  // Expected values printed by numpy 2.4.6: float(np.percentile(np.array(v, dtype=np.float64), p)).
  const CASES: [number[], number, number][] = [
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 9.549999999999999],
    [[0.1, 0.7, 0.2, 0.9, 0.4], 95, 0.86],
    [[2.5, -1, 7, 3.25, 0, 11, -4.75], 12.5, -1.9375],
    [[1e-3, 2e-3, 5e-1, 3e-4], 99, 0.4850599999999999],
  ];
  for (const [scores, p, expected] of CASES) {
    test(`threshold = np.percentile(${JSON.stringify(scores)}, ${p}) = ${expected}`, () => {
      const policy = PercentilePolicy.fit({ percentile: p }, scores, 'training');
      assert.equal(policy.threshold, expected);
      assert.deepEqual(policy.state, {
        threshold: expected,
        reference: 'training',
        referenceRows: scores.length,
      });
    });
  }

  test('flags strictly above the threshold, with no p-value; aims at 1 − p/100', () => {
    const policy = PercentilePolicy.fit({ percentile: 95 }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'training');
    assert.deepEqual(policy.classify(9.549999999999999), {
      flagged: false,
      threshold: 9.549999999999999,
      pValue: null,
    });
    assert.equal(policy.classify(9.55).flagged, true);
    assert.ok(Math.abs(policy.targetFpr - 0.05) < 1e-12);
  });

  test('round-trips through JSON and refits', () => {
    const policy = PercentilePolicy.fit({ percentile: 99 }, [3, 1, 2, 5, 4], 'calibration');
    const json = JSON.parse(JSON.stringify(policy)) as ReturnType<PercentilePolicy['toJSON']>;
    assert.deepEqual(json, {
      kind: 'percentile',
      params: { percentile: 99 },
      state: { threshold: 4.96, reference: 'calibration', referenceRows: 5 },
    });
    assert.deepEqual(PercentilePolicy.fromJSON(json).toJSON(), policy.toJSON());
    assert.equal(policy.refit([10, 20], 'reference-window').threshold, 19.9);
  });

  test('bad parameters are a ConfigError; bad state is INCOMPATIBLE_MODEL', () => {
    for (const percentile of [-1, 100.5, Number.NaN, '95'])
      assert.throws(() => PercentilePolicy.fit({ percentile }, [1, 2], 'training'), ConfigError);
    assert.throws(
      () => PercentilePolicy.fromJSON({ params: { percentile: 95 }, state: { threshold: Infinity } }),
      (err: unknown) => err instanceof ModelError && err.code === 'INCOMPATIBLE_MODEL',
    );
  });
});
