import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADAPTATION_DEFAULTS,
  REPORT_POLICY,
  policySettings,
  resolveAdaptationOptions,
} from '../../../shared/adaptation/config.js';
import { ConfigError } from '../../../shared/errors.js';

describe('adaptation options', () => {
  test('defaults resolve and validate', () => {
    const o = resolveAdaptationOptions();
    assert.deepEqual(o, { ...ADAPTATION_DEFAULTS, golden: { ...ADAPTATION_DEFAULTS.golden } });
  });

  test('the report policy keeps the report settings', () => {
    const o = resolveAdaptationOptions({ policy: 'report' });
    assert.deepEqual(policySettings(o), { ...REPORT_POLICY });
  });

  test('nested overrides keep the other defaults', () => {
    const o = resolveAdaptationOptions({ default: { steps: 7 }, guardrails: { maxFlaggedShare: 0.2 } });
    assert.equal(o.default.steps, 7);
    assert.equal(o.default.supportSize, ADAPTATION_DEFAULTS.default.supportSize);
    assert.equal(o.guardrails.maxFlaggedShare, 0.2);
    assert.equal(o.guardrails.minGoldenRecall, ADAPTATION_DEFAULTS.guardrails.minGoldenRecall);
  });

  test('undefined overrides do not erase defaults', () => {
    const o = resolveAdaptationOptions({ default: { steps: undefined } });
    assert.equal(o.default.steps, ADAPTATION_DEFAULTS.default.steps);
  });

  test('every bad field is reported at once', () => {
    assert.throws(
      () =>
        resolveAdaptationOptions({
          default: { learningRate: -1, maxKeyShare: 0 },
          guardrails: { maxFlaggedShare: 2 },
          golden: { variants: [] },
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const paths = err.issues.map((i) => i.path).sort();
        assert.deepEqual(paths, [
          'default.learningRate',
          'default.maxKeyShare',
          'golden.variants',
          'guardrails.maxFlaggedShare',
        ]);
        return true;
      },
    );
  });

  test('Infinity is a valid bound (it disables one guardrail)', () => {
    const o = resolveAdaptationOptions({ guardrails: { maxWeightDrift: Number.POSITIVE_INFINITY } });
    assert.equal(o.guardrails.maxWeightDrift, Number.POSITIVE_INFINITY);
  });
});
