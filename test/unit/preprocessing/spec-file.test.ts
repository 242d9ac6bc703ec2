import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../shared/errors.js';
import { loadFeatureSpecFile, parseFeatureSpec } from '../../../shared/preprocessing/spec-file.js';

describe('feature spec files', () => {
  test('a valid spec, defaults applied, notes ignored', () => {
    const spec = parseFeatureSpec({
      features: [
        { kind: 'numeric', name: 'a' },
        { kind: 'categorical', name: 'c', categories: ['x'] },
      ],
      keyField: 'id',
      leftOut: [],
    });
    assert.deepEqual(spec, {
      features: [
        { kind: 'numeric', name: 'a' },
        { kind: 'categorical', name: 'c', categories: ['x'] },
      ],
      scaler: 'minmax',
      impute: 'error',
    });
  });

  test('every problem at once, with its path; a feature listed twice', () => {
    assert.throws(
      () => parseFeatureSpec({ features: [{ kind: 'number', name: 'a' }], impute: 'guess' }, 'f.json'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues.some((i) => i.path === 'f.json:features.0.kind') &&
        e.issues.some((i) => i.path === 'f.json:impute'),
    );
    assert.throws(
      () =>
        parseFeatureSpec({
          features: [
            { kind: 'numeric', name: 'b' },
            { kind: 'categorical', name: 'b' },
          ],
        }),
      (e: unknown) => e instanceof ConfigError && /"b" is listed twice/.test(e.issues[0]!.message),
    );
  });

  test('files: unreadable and not-JSON are configuration errors naming the file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smae-spec-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    assert.throws(() => loadFeatureSpecFile(join(dir, 'none.json')), /cannot read feature spec/);
    await writeFile(join(dir, 'bad.json'), '{features:');
    assert.throws(() => loadFeatureSpecFile(join(dir, 'bad.json')), /is not valid JSON/);
    await writeFile(
      join(dir, 'ok.json'),
      JSON.stringify({ features: [{ kind: 'numeric', name: 'a' }], scaler: 'none' }),
    );
    assert.equal(loadFeatureSpecFile(join(dir, 'ok.json')).scaler, 'none');
  });
});
