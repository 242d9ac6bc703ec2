import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { duration, parseDuration } from '../../../shared/config/fields.js';
import {
  parseDuration as adapterParseDuration,
  resolveAdapterConfig,
} from '../../../services/adapter/config.js';
import { ConfigError } from '../../../shared/errors.js';

/** The messages a schema of one duration field gives for `value` (empty when it is accepted). */
function messages(field: z.ZodType, value: unknown): string[] {
  const r = z.object({ d: field }).safeParse({ d: value });
  return r.success ? [] : r.error.issues.map((i) => i.message);
}

describe('duration settings', () => {
  test('the shared parser reads units and bare milliseconds, NaN otherwise', () => {
    assert.equal(parseDuration('250'), 250);
    assert.equal(parseDuration(' 30s '), 30_000);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('0.4'), 0);
    for (const bad of ['', 'soon', '5x', '-1s', '1 w']) assert.ok(Number.isNaN(parseDuration(bad)), bad);
  });

  test('the adapter reads the same texts to the same values, null where the shared parser says NaN', () => {
    for (const text of ['500ms', '30s', '15m', '2h', '1d', '1000', '0.4', ' 7 s ']) {
      assert.equal(adapterParseDuration(text), parseDuration(text), text);
    }
    assert.equal(adapterParseDuration('soon'), null);
  });

  test('default wording (alerts): unreadable and too short are told apart', () => {
    const d = duration(1000);
    assert.deepEqual(messages(d, '10m'), []);
    assert.deepEqual(messages(d, 2000), []);
    assert.deepEqual(messages(d, 'soon'), ['must be a duration such as 500ms, 30s, 10m, 2h or 7d']);
    assert.deepEqual(messages(d, '500ms'), ['must be at least 1000 ms']);
    assert.deepEqual(messages(d, 10), ['must be at least 1000 ms']);
  });

  test('a service can word both messages its own way', () => {
    const d = duration(1, { invalid: 'unreadable', belowMin: 'too short' });
    assert.equal(d.parse('2h'), 7_200_000);
    assert.deepEqual(messages(d, '5x'), ['unreadable']);
    assert.deepEqual(messages(d, '0'), ['too short']);
    assert.deepEqual(messages(duration(1, { invalid: 'unreadable' }), '0'), ['must be at least 1 ms']);
  });

  test('the adapter keeps one message for unreadable and zero intervals', () => {
    const hint = 'must be a duration such as 500ms, 30s, 15m, 2h or 1d';
    for (const every of ['5x', '0', '0.4', '']) {
      assert.throws(
        () => resolveAdapterConfig({ pipeline: 'p', every }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.issues.length === 1 &&
          err.issues[0]!.path === 'SMAE_EVERY / --every' &&
          err.issues[0]!.message === hint,
        every,
      );
    }
    assert.deepEqual(resolveAdapterConfig({ pipeline: 'p', every: '1.5h' }).schedule, { every: 5_400_000 });
  });
});
