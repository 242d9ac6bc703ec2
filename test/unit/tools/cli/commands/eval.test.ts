/**
 * `smae eval` and `smae score` on bad input: a non-zero exit, one line on stderr, no stack trace,
 * nothing on stdout. Spawns the real entry point (`node bin/smae.js`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../../../..');

function smae(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/smae.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineFailure(
  r: { code: number | null; stdout: string; stderr: string },
  pattern: RegExp,
): void {
  assert.notEqual(r.code, 0, 'exit code');
  assert.notEqual(r.code, null, 'the process was killed');
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `stderr should be one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.ok(!/^\s+at /m.test(r.stderr), `stack trace on stderr:\n${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout');
}

describe('smae eval / score on bad input', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smae-cli-'));
    await writeFile(join(dir, 'ragged.csv'), 'a,b\n1,2\n3\n4,5\n');
    await writeFile(join(dir, 'text.csv'), 'name,kind\nfoo,x\nbar,y\n');
    await writeFile(join(dir, 'badlabel.csv'), 'a,b,label\n1,2,0\n3,4,2\n');
    await writeFile(join(dir, 'nolabel.csv'), 'a,b\n1,2\n3,4\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a missing file', () => {
    assertOneLineFailure(smae(['eval', '--data', join(dir, 'missing.csv')]), /BAD_DATA_FILE.*missing\.csv/);
  });

  test('ragged rows', () => {
    assertOneLineFailure(smae(['eval', '--data', join(dir, 'ragged.csv')]), /BAD_DATA_FILE.*ragged/);
  });

  test('no numeric columns', () => {
    assertOneLineFailure(smae(['eval', '--data', join(dir, 'text.csv')]), /BAD_DATA_FILE.*no numeric/);
  });

  test('a label column that is not 0/1', () => {
    assertOneLineFailure(smae(['eval', '--data', join(dir, 'badlabel.csv'), '--labels']), /BAD_LABEL_COLUMN/);
  });

  test('--labels without a label column', () => {
    assertOneLineFailure(
      smae(['eval', '--data', join(dir, 'nolabel.csv'), '--labels']),
      /BAD_LABEL_COLUMN.*label/,
    );
  });

  for (const [flag, value] of [
    ['--inject', 'C'],
    ['--scale', 'zscore'],
    ['--percentile', '120'],
    ['--epochs', '0'],
    ['--epochs', 'many'],
    ['--seeds', '1,x'],
    ['--backend', 'gpu'],
  ] as const) {
    test(`a bad option value: ${flag} ${value}`, () => {
      assertOneLineFailure(
        smae(['eval', '--data', join(dir, 'nolabel.csv'), flag, value]),
        new RegExp(`invalid option.*${flag}`),
      );
    });
  }

  test('score with a missing model directory', () => {
    assertOneLineFailure(
      smae(['score', '--model', join(dir, 'no-model'), '--data', join(dir, 'nolabel.csv')]),
      /MODEL_NOT_FOUND/,
    );
  });
});

describe('smae eval → --save-model → smae score', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smae-cli-'));
    // 300 rows on a 1-dimensional structure, and a label column that must not become a feature.
    const lines = ['a,b,c,label'];
    for (let i = 0; i < 300; i++) {
      const t = (i * 37) % 100;
      lines.push(`${t},${2 * t + 1},${100 - t},${i % 10 === 0 ? 1 : 0}`);
    }
    await writeFile(join(dir, 'tiny.csv'), `${lines.join('\n')}\n`);
    await writeFile(join(dir, 'mixed.csv'), 'a,b,c\n10,21,90\n,3,4\n50,x,50\n99,-500,1\n');
    await writeFile(join(dir, 'mixed2.csv'), 'a,z\n1,2\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('eval --json prints one JSON object with the metrics, and saves a model', () => {
    const model = join(dir, 'model');
    const r = smae([
      'eval',
      '--data',
      join(dir, 'tiny.csv'),
      '--profile',
      'report',
      '--epochs',
      '2',
      '--seeds',
      '1,2',
      '--json',
      '--save-model',
      model,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const k of [
      'f1Macro',
      'recallMacro',
      'precisionMacro',
      'rocAuc',
      'flaggedShare',
      'threshold',
      'trainSeconds',
    ]) {
      assert.equal(typeof j[k], 'number', k);
    }
    assert.equal(j.backend, 'cpu');
    assert.deepEqual(j.seeds, [1, 2]);
    assert.deepEqual(j.rows, {
      total: 300,
      train: 210,
      test: 90,
      testAnomalies: 13,
      injected: 13,
      features: 3,
    });
    assert.equal((j.runs as unknown[]).length, 2);
    assert.ok(!r.stderr.includes('\n    at '));

    const s = smae(['score', '--model', model, '--data', join(dir, 'mixed.csv'), '--top', '2']);
    assert.equal(s.code, 0, s.stderr);
    const out = s.stdout.trim().split('\n');
    assert.equal(out[0], 'row,mse,flag,top_features,error');
    assert.equal(out.length, 5);
    assert.match(out[1]!, /^1,[0-9.e-]+,[01],[abc]:[0-9.]+;[abc]:[0-9.]+,$/);
    assert.match(out[2]!, /^2,,,,.*MISSING_FIELD.*a/);
    assert.match(out[3]!, /^3,,,,.*WRONG_TYPE.*b/);
    assert.match(out[4]!, /^4,[0-9.e-]+,1,/, 'a far-off row is flagged');
    assert.match(s.stderr, /scored 2 of 4 rows.*2 in error/);
  });

  test('the readable table names the protocol and the metrics', () => {
    const r = smae([
      'eval',
      '--data',
      join(dir, 'tiny.csv'),
      '--profile',
      'report',
      '--epochs',
      '1',
      '--inject',
      'b',
      '--no-adapt',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /inject B, profile report, scale minmax, 1 epochs, no adaptation/);
    assert.match(r.stdout, /F1-macro\s+recall-macro/);
    assert.match(r.stdout, /actual anomaly/);
  });

  test('score refuses a file without the model’s columns in one line', () => {
    const model = join(dir, 'model');
    assertOneLineFailure(
      smae(['score', '--model', model, '--data', join(dir, 'mixed2.csv')]),
      /BAD_DATA_FILE/,
    );
  });
});
