import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { parseOptions, protectStdout, seedList } from '../../../../tools/cli/options.js';
import { ConfigError } from '../../../../shared/errors.js';

describe('seedList', () => {
  test('lists, ranges and mixes', () => {
    assert.deepEqual(seedList.parse('1,2,3'), [1, 2, 3]);
    assert.deepEqual(seedList.parse('1-5'), [1, 2, 3, 4, 5]);
    assert.deepEqual(seedList.parse('0-2, 10, 2'), [0, 1, 2, 10]);
  });
  test('refuses what is not a seed', () => {
    for (const bad of ['x', '1,-2', '5-1', '1.5', ''])
      assert.equal(seedList.safeParse(bad).success, false, bad);
  });
});

describe('parseOptions', () => {
  const schema = z.object({ epochs: z.coerce.number().int().positive(), scale: z.enum(['none', 'minmax']) });
  test('returns typed values', () => {
    assert.deepEqual(parseOptions(schema, { epochs: '3', scale: 'none' }), { epochs: 3, scale: 'none' });
  });
  test('names every bad flag in one ConfigError', () => {
    assert.throws(
      () => parseOptions(schema, { epochs: '0', scale: 'zscore' }),
      (e) =>
        e instanceof ConfigError &&
        e.issues.length === 2 &&
        e.issues.some((i) => i.path === '--epochs' && i.message.includes('"0"')) &&
        e.issues.some((i) => i.path === '--scale' && /none, minmax/.test(i.message)),
    );
  });
});

describe('protectStdout', () => {
  test('sends console.log to stderr while running, then restores it', async () => {
    const original = console.log;
    let inside: unknown;
    await protectStdout(async () => {
      inside = console.log;
    });
    assert.equal(inside, console.error);
    assert.equal(console.log, original);
  });
});
