import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadAlertsConfig, parseDuration } from '../../../../services/alerts/config.js';
import { ConfigError } from '../../../../shared/errors.js';

describe('alerts config', () => {
  test('durations read with units', () => {
    assert.equal(parseDuration('500'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.ok(Number.isNaN(parseDuration('soon')));
  });

  test('defaults derive from the pipeline; options win over the environment', () => {
    const c = loadAlertsConfig(
      { SMAE_PIPELINE: 'pay', SMAE_ALERTS_WINDOW: '5m', SMAE_ALERTS_FORMAT: 'text' },
      { window: '30s' },
    );
    assert.equal(c.topic, 'pay.flags');
    assert.equal(c.group, 'pay.alerts');
    assert.equal(c.window, 30_000);
    assert.equal(c.format, 'text');
    assert.equal(c.timeBase, 'event');
    assert.equal(c.stdout, true);
  });

  test('webhook headers parse; every problem is named with its flag and variable', () => {
    const c = loadAlertsConfig(
      {},
      { pipeline: 'p', webhookUrl: 'https://h.test/x', webhookHeaders: ['Authorization: Bearer a:b'] },
    );
    assert.deepEqual(c.headers, { Authorization: 'Bearer a:b' });
    assert.throws(
      () => loadAlertsConfig({}, { window: 'soon', webhookUrl: 'not a url', format: 'xml' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const paths = err.issues.map((i) => i.path).join(' | ');
        for (const p of [
          '--pipeline / SMAE_PIPELINE',
          '--window / SMAE_ALERTS_WINDOW',
          '--webhook-url',
          '--format',
        ]) {
          assert.ok(paths.includes(p), `${p} in ${paths}`);
        }
        return true;
      },
    );
    assert.throws(
      () => loadAlertsConfig({}, { pipeline: 'p', stdout: false }),
      (err: unknown) => err instanceof ConfigError && /webhook/.test(err.issues[0]!.message),
    );
  });
});
