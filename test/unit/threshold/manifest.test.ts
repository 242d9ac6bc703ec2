import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError } from '../../../shared/errors.js';
import type { ThresholdInfo } from '../../../shared/model/artifact.js';
import { describeThreshold, thresholdInfoOf, thresholdPolicyOf } from '../../../shared/threshold/manifest.js';
import { fitPolicy, specForTarget } from '../../../shared/threshold/policy.js';
import { exponential } from './samples.js';

const incompatible = (err: unknown) => err instanceof ModelError && err.code === 'INCOMPATIBLE_MODEL';

describe('threshold policies in the model manifest', () => {
  test('a manifest from before policies reads as the percentile policy it was', () => {
    const legacy: ThresholdInfo = { value: 0.25, percentile: 95, reference: 'training', referenceRows: 1000 };
    const policy = thresholdPolicyOf(legacy);
    assert.equal(policy.kind, 'percentile');
    assert.equal(policy.threshold, 0.25);
    assert.deepEqual(policy.classify(0.3), { flagged: true, threshold: 0.25, pValue: null });
    assert.equal(describeThreshold(legacy), 'p95 of 1000 training scores');
  });

  for (const kind of ['percentile', 'spot', 'conformal'] as const) {
    test(`${kind}: info round-trips through JSON to the same policy`, () => {
      const policy = fitPolicy(specForTarget(kind, 0.02), exponential(3000, 1), 'held-out calibration');
      const info = JSON.parse(JSON.stringify(thresholdInfoOf(policy))) as ThresholdInfo;
      assert.equal(info.value, policy.threshold);
      assert.equal(info.percentile, kind === 'percentile' ? 98 : undefined);
      assert.deepEqual(thresholdPolicyOf(info).toJSON(), policy.toJSON());
    });
  }

  test('a top-level threshold that disagrees with the policy is refused', () => {
    const info = thresholdInfoOf(fitPolicy(specForTarget('spot', 0.01), exponential(3000, 2), 'c'));
    assert.throws(() => thresholdPolicyOf({ ...info, value: info.value * 2 }), incompatible);
    assert.throws(() => thresholdPolicyOf({ ...info, referenceRows: 1 }), incompatible);
    assert.throws(() => thresholdPolicyOf({ ...info, percentile: 99 }), incompatible);
  });

  test('a missing or unknown policy is refused', () => {
    assert.throws(() => thresholdPolicyOf(undefined), incompatible);
    const info = thresholdInfoOf(fitPolicy(specForTarget('percentile', 0.05), [1, 2, 3], 'c'));
    assert.throws(
      () => thresholdPolicyOf({ ...info, policy: { ...info.policy, kind: 'median' } as never }),
      incompatible,
    );
    assert.throws(
      () => thresholdPolicyOf({ value: 1, reference: 'training', referenceRows: 5 }),
      incompatible,
    );
  });
});
