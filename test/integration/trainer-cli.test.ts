/**
 * `smae train` and `smae models` as an operator runs them (child processes, real Redis): train and
 * publish with progress as JSON log lines (stderr is not a terminal here), list, show, roll back,
 * export, and train without publishing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadArtifact } from '../../shared/model/artifact.js';
import { uniquePipeline } from '../helpers/infra.js';
import { smae, workDir } from '../helpers/smae.js';

const ROOT = join(import.meta.dirname, '../..');
const DATA_DIR = process.env['SMAE_DATA_DIR'] ?? join(ROOT, '../shared/data');

describe('smae train / smae models', () => {
  test('train, list, show, rollback, export', async (t) => {
    const { name } = uniquePipeline(t, 'cli');
    const dir = await workDir(t, 'smae-cli-');
    const csv = join(dir, 'rows.csv');
    const lines = (await readFile(join(DATA_DIR, 'thyroid.csv'), 'utf8')).trim().split('\n');
    await writeFile(csv, `${lines.slice(0, 301).join('\n')}\n`);
    const train = (seed: number) =>
      smae([
        'train',
        '--data',
        csv,
        '--pipeline',
        name,
        '--profile',
        'report',
        '--epochs',
        '2',
        '--seed',
        String(seed),
        '--json',
      ]);

    const first = await train(1);
    assert.equal(first.code, 0, first.stderr);
    const r1 = JSON.parse(first.stdout) as Record<string, unknown>;
    assert.equal(r1['version'], 1);
    assert.equal(r1['rows'], 300);
    assert.equal(r1['epochs'], 2);
    assert.equal(r1['percentile'], 95);
    assert.equal(typeof r1['threshold'], 'number');
    assert.equal(typeof r1['backend'], 'string');
    const epochLines = first.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; epoch?: number })
      .filter((l) => l.msg === 'epoch');
    assert.deepEqual(
      epochLines.map((l) => l.epoch),
      [1, 2],
      'progress as JSON log lines',
    );
    const second = await train(2);
    assert.equal(second.code, 0, second.stderr);

    const list = await smae(['models', 'list', '--pipeline', name, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const versions = JSON.parse(list.stdout) as {
      version: number;
      current: boolean;
      integrity: string;
      trainingRows: number;
    }[];
    assert.deepEqual(
      versions.map((v) => [v.version, v.current, v.integrity, v.trainingRows]),
      [
        [2, true, 'ok', 300],
        [1, false, 'ok', 300],
      ],
    );
    const table = await smae(['models', 'list', '--pipeline', name]);
    assert.match(table.stdout, /^\*\s+v2/m);

    const rb = await smae([
      'models',
      'rollback',
      '1',
      '--pipeline',
      name,
      '--reason',
      'bad retrain',
      '--json',
    ]);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal((JSON.parse(rb.stdout) as { version: number }).version, 3);
    const show = await smae(['models', 'show', 'current', '--pipeline', name, '--json']);
    const shown = JSON.parse(show.stdout) as {
      version: number;
      publishedBy: string;
      reason: string;
      manifest: { parentVersion: number; threshold: { value: number } };
    };
    assert.equal(shown.version, 3);
    assert.equal(shown.publishedBy, 'rollback');
    assert.match(shown.reason, /bad retrain/);
    assert.equal(shown.manifest.parentVersion, 2);
    assert.equal(shown.manifest.threshold.value, r1['threshold']);

    const out = join(dir, 'exported');
    const exp = await smae(['models', 'export', '3', out, '--pipeline', name]);
    assert.equal(exp.code, 0, exp.stderr);
    const artifact = await loadArtifact(out);
    assert.equal(artifact.manifest.version, 3);

    const missing = await smae(['models', 'show', '42', '--pipeline', name]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /MODEL_NOT_FOUND/);
  });

  test('--no-publish --save writes an artifact and leaves the registry alone', async (t) => {
    const { name } = uniquePipeline(t, 'cli');
    const dir = await workDir(t, 'smae-cli-');
    const save = join(dir, 'model');
    const res = await smae([
      'train',
      '--data',
      join(DATA_DIR, 'thyroid.csv'),
      '--pipeline',
      name,
      '--profile',
      'report',
      '--epochs',
      '1',
      '--no-publish',
      '--save',
      save,
      '--json',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(res.stdout) as { version: number | null; savedTo: string };
    assert.equal(r.version, null);
    assert.equal(r.savedTo, save);
    assert.ok((await stat(join(save, 'weights.bin'))).size > 0);
    const list = await smae(['models', 'list', '--pipeline', name, '--json']);
    assert.deepEqual(JSON.parse(list.stdout), []);
  });

  test('bad command lines say what to fix', async () => {
    const both = await smae(['train', '--data', 'x.csv', '--topic', 't', '--last', '5']);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /either --data/);
    const noLast = await smae(['train', '--topic', 't']);
    assert.match(noLast.stderr, /--last/);
    const noFile = await smae(['train', '--data', '/nonexistent.csv', '--no-publish']);
    assert.match(noFile.stderr, /BAD_DATA_FILE/);
  });
});
