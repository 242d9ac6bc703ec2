import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../shared/errors.js';
import { writeSetupFiles } from '../../../shared/setup/write.js';

describe('writeSetupFiles', () => {
  test('writes new files, keeps identical ones, never overwrites an edit without force', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'smae-write-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const dir = join(root, 'out');
    const files = [
      { name: 'a.txt', text: 'A\n' },
      { name: 'b.txt', text: 'B\n' },
    ];
    assert.deepEqual(await writeSetupFiles(dir, files), { written: ['a.txt', 'b.txt'], unchanged: [] });
    assert.deepEqual(await writeSetupFiles(dir, files), { written: [], unchanged: ['a.txt', 'b.txt'] });

    await writeFile(join(dir, 'b.txt'), 'B, edited\n');
    const changed = [
      { name: 'a.txt', text: 'A2\n' },
      { name: 'b.txt', text: 'B2\n' },
    ];
    await assert.rejects(
      writeSetupFiles(dir, changed),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues.length === 2 &&
        e.issues.every((i) => /--force/.test(i.message)) &&
        e.issues[1]!.path === join(dir, 'b.txt'),
    );
    // Nothing was written: all or nothing.
    assert.equal(await readFile(join(dir, 'a.txt'), 'utf8'), 'A\n');
    assert.equal(await readFile(join(dir, 'b.txt'), 'utf8'), 'B, edited\n');

    assert.deepEqual(await writeSetupFiles(dir, changed, { force: true }), {
      written: ['a.txt', 'b.txt'],
      unchanged: [],
    });
    assert.equal(await readFile(join(dir, 'b.txt'), 'utf8'), 'B2\n');
  });
});
