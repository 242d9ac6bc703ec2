import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAdapterConfig, parseDuration, resolveAdapterConfig } from '../../../services/adapter/config.js';
import { ADAPTATION_DEFAULTS } from '../../../shared/adaptation/config.js';
import { ConfigError } from '../../../shared/errors.js';

describe('adapter configuration', () => {
  test('durations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1000'), 1000);
    assert.equal(parseDuration('soon'), null);
  });

  test('defaults: every 15 minutes, the default policy, schedulers managed, compute in a thread', () => {
    const c = resolveAdapterConfig({ pipeline: 'payments' });
    assert.deepEqual(c.pipelines, ['payments']);
    assert.deepEqual(c.schedule, { every: 900_000 });
    assert.equal(c.manageSchedulers, true);
    assert.equal(c.compute, 'thread');
    assert.deepEqual(c.adaptation.default, ADAPTATION_DEFAULTS.default);
  });

  test('environment and flags (flags win); a cron pattern wins over every', () => {
    const c = loadAdapterConfig(
      { SMAE_PIPELINE: 'a,b', SMAE_EVERY: '5m', SMAE_STEPS: '7', SMAE_MAX_FLAGGED_SHARE: '0.2' },
      ['--steps', '9', '--cron', '0 * * * *', '--policy', 'report'],
    );
    assert.deepEqual(c.pipelines, ['a', 'b']);
    assert.deepEqual(c.schedule, { pattern: '0 * * * *' });
    assert.equal(c.adaptation.policy, 'report');
    // Steps apply to the policy in use.
    assert.equal(c.adaptation.report.steps, 9);
    assert.equal(c.adaptation.default.steps, ADAPTATION_DEFAULTS.default.steps);
    assert.equal(c.adaptation.guardrails.maxFlaggedShare, 0.2);
  });

  test('threshold policy: the base model’s by default; --threshold-policy / --target-fpr choose one', () => {
    assert.equal(resolveAdapterConfig({ pipeline: 'p' }).adaptation.threshold, null);
    const c = loadAdapterConfig({ SMAE_PIPELINE: 'p', SMAE_TARGET_FPR: '0.02' }, [
      '--threshold-policy',
      'spot',
    ]);
    assert.deepEqual(c.adaptation.threshold, { kind: 'spot', params: { q: 0.02 } });
    const alone = loadAdapterConfig({ SMAE_PIPELINE: 'p' }, ['--target-fpr', '0.01']);
    assert.deepEqual(alone.adaptation.threshold, { kind: 'conformal', params: { alpha: 0.01 } });
    assert.throws(
      () => loadAdapterConfig({ SMAE_PIPELINE: 'p' }, ['--target-fpr', '5', '--threshold-policy', 'median']),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues.some((i) => i.path.includes('target-fpr')) &&
        err.issues.some((i) => i.path.includes('threshold-policy')),
    );
  });

  test('the whole option tree as JSON, single settings on top', () => {
    const c = resolveAdapterConfig({
      pipeline: 'p',
      adaptation: JSON.stringify({ default: { margin: 0.8 }, guardrails: { minGoldenRecall: 0.95 } }),
      minGoldenRecall: '0.97',
    });
    assert.equal(c.adaptation.default.margin, 0.8);
    assert.equal(c.adaptation.guardrails.minGoldenRecall, 0.97);
  });

  test('every problem is reported at once, by setting name', () => {
    assert.throws(
      () => resolveAdapterConfig({ pipeline: 'bad name', every: '5x', maxFlaggedShare: '3' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const paths = err.issues.map((i) => i.path);
        assert.ok(paths.some((p) => p.includes('SMAE_PIPELINE')));
        assert.ok(paths.some((p) => p.includes('SMAE_EVERY')));
        assert.ok(paths.some((p) => p.includes('SMAE_MAX_FLAGGED_SHARE')));
        return true;
      },
    );
    assert.throws(() => resolveAdapterConfig({ pipeline: 'p', adaptation: '{nope' }), ConfigError);
    assert.throws(
      () => resolveAdapterConfig({ pipeline: 'p', adaptation: '{"default":{"learningRate":-1}}' }),
      (err: unknown) =>
        err instanceof ConfigError && err.issues.some((i) => i.path.includes('default.learningRate')),
    );
    assert.throws(() => loadAdapterConfig({ SMAE_PIPELINE: 'p' }, ['--no-such-flag', 'x']), ConfigError);
  });
});
