import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCsv, parseCsv } from '../../../shared/data/csv.js';
import { SmaeError } from '../../../shared/errors.js';

function code(err: unknown): string | undefined {
  return err instanceof SmaeError ? err.code : undefined;
}

describe('parseCsv', () => {
  test('numbers become numbers, text stays text, empty stays empty', () => {
    const t = parseCsv('a,b,c\n1,x,0.1\n-2.5e3,y,\n');
    assert.deepEqual(t.columns, ['a', 'b', 'c']);
    assert.deepEqual(t.numericColumns, ['a', 'c']);
    assert.deepEqual(t.rows, [
      { a: 1, b: 'x', c: 0.1 },
      { a: -2500, b: 'y', c: '' },
    ]);
    assert.equal(t.labels, undefined);
  });

  test('values read back bit-exact (round-trip float64)', () => {
    const t = parseCsv('v\n0.30000000000000004\n74.93588199999998\n');
    assert.equal(t.rows[0]!.v, 0.30000000000000004);
    assert.equal(t.rows[1]!.v, 74.93588199999998);
  });

  test('the label column is taken out of the features', () => {
    const t = parseCsv('x1,label,x2\n1,0,2\n3,1,4\n', { labelColumn: 'label' });
    assert.deepEqual(t.columns, ['x1', 'x2']);
    assert.deepEqual([...t.labels!], [0, 1]);
    assert.equal(t.labelColumn, 'label');
    for (const r of t.rows) assert.ok(!('label' in r));
  });

  test('an optional label column is still removed when present, and ignored when absent', () => {
    const present = parseCsv('x,label\n1,0\n2,1\n', { labelColumn: 'label', labelRequired: false });
    assert.deepEqual(present.columns, ['x']);
    assert.deepEqual([...present.labels!], [0, 1]);
    const absent = parseCsv('x,y\n1,0\n2,1\n', { labelColumn: 'label', labelRequired: false });
    assert.deepEqual(absent.columns, ['x', 'y']);
    assert.equal(absent.labels, undefined);
  });

  test('a missing required label column is BAD_LABEL_COLUMN', () => {
    assert.throws(
      () => parseCsv('x,y\n1,0\n', { labelColumn: 'label' }),
      (e) => code(e) === 'BAD_LABEL_COLUMN' && /no label column "label"/.test((e as Error).message),
    );
  });

  for (const bad of ['2', '0.5', 'yes', '', '-1']) {
    test(`a label "${bad}" is BAD_LABEL_COLUMN naming the line`, () => {
      assert.throws(
        () => parseCsv(`x,label\n1,0\n2,${bad}\n`, { labelColumn: 'label' }),
        (e) => code(e) === 'BAD_LABEL_COLUMN' && /line 3/.test((e as Error).message),
      );
    });
  }

  test('ragged rows are BAD_DATA_FILE naming the line', () => {
    for (const text of ['a,b\n1,2\n3\n', 'a,b\n1,2\n3,4,5\n']) {
      assert.throws(
        () => parseCsv(text),
        (e) =>
          code(e) === 'BAD_DATA_FILE' &&
          /ragged/.test((e as Error).message) &&
          /line 3/.test((e as Error).message),
      );
    }
  });

  test('no numeric feature column is BAD_DATA_FILE', () => {
    assert.throws(
      () => parseCsv('name,label\nfoo,0\nbar,1\n', { labelColumn: 'label' }),
      (e) => code(e) === 'BAD_DATA_FILE' && /no numeric feature column/.test((e as Error).message),
    );
    // A column that is entirely empty is not numeric either.
    assert.throws(
      () => parseCsv('a,b\n,x\n,y\n'),
      (e) => code(e) === 'BAD_DATA_FILE',
    );
  });

  test('empty input, header only, duplicate and empty column names are BAD_DATA_FILE', () => {
    for (const text of ['', 'a,b\n', 'a,a\n1,2\n', 'a,,c\n1,2,3\n']) {
      assert.throws(
        () => parseCsv(text),
        (e) => code(e) === 'BAD_DATA_FILE',
        JSON.stringify(text),
      );
    }
  });

  test('a BOM and blank lines are tolerated', () => {
    const t = parseCsv('\ufeffa,b\n1,2\n\n3,4\n');
    assert.deepEqual(t.columns, ['a', 'b']);
    assert.equal(t.rows.length, 2);
  });
});

describe('loadCsv', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smae-csv-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads a file', async () => {
    const path = join(dir, 'ok.csv');
    await writeFile(path, 'x1,x2,label\n1,2,0\n3,4,1\n');
    const t = await loadCsv(path, { labelColumn: 'label' });
    assert.equal(t.rows.length, 2);
    assert.deepEqual([...t.labels!], [0, 1]);
  });

  test('a missing file is BAD_DATA_FILE naming it', async () => {
    const path = join(dir, 'missing.csv');
    await assert.rejects(
      loadCsv(path),
      (e) => code(e) === 'BAD_DATA_FILE' && (e as Error).message.includes(path),
    );
  });

  test('a directory is BAD_DATA_FILE', async () => {
    await assert.rejects(loadCsv(dir), (e) => code(e) === 'BAD_DATA_FILE');
  });

  const dataDir = process.env.SMAE_DATA_DIR ?? join(import.meta.dirname, '../../../../shared/data');
  test(
    'the shared data sets load with their labels',
    { skip: !existsSync(dataDir) && 'no data dir' },
    async () => {
      const t = await loadCsv(join(dataDir, 'thyroid.csv'), { labelColumn: 'label' });
      assert.equal(t.rows.length, 3772);
      assert.equal(t.columns.length, 6);
      assert.equal(
        t.labels!.reduce((s, v) => s + v, 0),
        93,
      );
    },
  );
});
