import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ModelError } from '../../../shared/errors.js';
import {
  REPORT_POLICY,
  fitPolicy,
  policyKindOption,
  restorePolicy,
  specForTarget,
  targetFprOption,
  validatePolicySpec,
  type PolicySpec,
} from '../../../shared/threshold/policy.js';
import { POLICY_KINDS } from '../../../shared/threshold/types.js';
import { exponential } from './samples.js';

const SCORES = exponential(5000, 11);

describe('threshold policies by kind', () => {
  for (const kind of POLICY_KINDS) {
    test(`${kind}: fit, JSON, restore give the same decisions and p-values`, () => {
      const policy = fitPolicy(specForTarget(kind, 0.01), SCORES, 'calibration');
      assert.equal(policy.kind, kind);
      const back = restorePolicy(JSON.parse(JSON.stringify(policy.toJSON())));
      assert.deepEqual(back.toJSON(), policy.toJSON());
      for (const s of [0.1, 3, 4.6, 5, 9]) assert.deepEqual(back.classify(s), policy.classify(s));
      assert.ok(Math.abs(policy.targetFpr - 0.01) < 1e-4, `${kind} targetFpr ${policy.targetFpr}`);
      // All three aim at the 0.99-quantile of Exponential(1), −ln 0.01 ≈ 4.61.
      assert.ok(Math.abs(policy.threshold / -Math.log(0.01) - 1) < 0.1, `${kind}: ${policy.threshold}`);
    });

    test(`${kind}: refit keeps kind and parameters, and changes the fitted state`, () => {
      const policy = fitPolicy(specForTarget(kind, 0.05), SCORES, 'calibration');
      const refitted = policy.refit(
        SCORES.map((s) => s * 2),
        'reference-window',
      );
      assert.equal(refitted.kind, kind);
      assert.deepEqual(refitted.params, policy.params);
      assert.ok(Math.abs(refitted.threshold / policy.threshold - 2) < 0.05);
      assert.equal(refitted.state.reference, 'reference-window');
    });
  }

  test('the report policy is the 95th percentile', () => {
    assert.deepEqual(REPORT_POLICY, { kind: 'percentile', params: { percentile: 95 } });
    assert.deepEqual(specForTarget('percentile', 0.01), { kind: 'percentile', params: { percentile: 99 } });
  });

  test('restorePolicy refuses what is not a policy with INCOMPATIBLE_MODEL', () => {
    const incompatible = (err: unknown) => err instanceof ModelError && err.code === 'INCOMPATIBLE_MODEL';
    assert.throws(() => restorePolicy(null), incompatible);
    assert.throws(() => restorePolicy({ kind: 'median', params: {}, state: {} }), incompatible);
    const good = fitPolicy(specForTarget('spot', 0.01), SCORES, 'calibration').toJSON();
    assert.throws(() => restorePolicy({ ...good, params: { q: 2 } }), incompatible);
  });

  test('validatePolicySpec and the option fields check parameters at the edge', () => {
    assert.doesNotThrow(() => validatePolicySpec(specForTarget('spot', 0.01)));
    assert.throws(() => validatePolicySpec({ kind: 'conformal', params: { alpha: 2 } }), ConfigError);
    assert.throws(
      () => validatePolicySpec({ kind: 'other', params: {} } as unknown as PolicySpec),
      ConfigError,
    );
    assert.equal(targetFprOption.parse('0.01'), 0.01);
    for (const bad of ['0', '0.5', 'x', '-0.1']) assert.equal(targetFprOption.safeParse(bad).success, false);
    assert.equal(policyKindOption.safeParse('spot').success, true);
    assert.equal(policyKindOption.safeParse('quantile').success, false);
  });
});
