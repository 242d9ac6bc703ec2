import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { avroFieldName, csvSource, type LabelledEvent } from '../../../../lab/generator/index.js';
import { parseCsv } from '../../../../shared/data/csv.js';
import { tableSource, CSV_SOURCE_DEFAULTS } from '../../../../lab/generator/csv-source.js';

async function all(it: AsyncIterable<LabelledEvent>): Promise<LabelledEvent[]> {
  const out: LabelledEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

function csv(rows: number, labelled: boolean): string {
  const lines = [labelled ? 'x 1,x2,kind,label' : 'x 1,x2,kind'];
  for (let i = 0; i < rows; i++) {
    const cells = [String(1 + (i % 7)), String(2 + (i % 5)), i % 2 ? 'u' : 'v'];
    if (labelled) cells.push(i % 10 === 0 ? '1' : '0');
    lines.push(cells.join(','));
  }
  return lines.join('\n');
}

describe('csvSource', () => {
  test('a labelled file: its labels, a clean training part, Avro-safe field names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smae-gen-'));
    try {
      const path = join(dir, 'x.csv');
      await writeFile(path, csv(100, true));
      const source = await csvSource({ path, trainShare: 0.3 });
      assert.equal(source.trainRecords, 30);
      assert.equal(source.streamRecords, 70);
      assert.deepEqual(
        source.schema.fields.map((f) => f.name),
        ['x_1', 'x2', 'kind'],
      );
      assert.deepEqual(source.features, [
        { kind: 'numeric', name: 'x_1' },
        { kind: 'numeric', name: 'x2' },
        { kind: 'categorical', name: 'kind' },
      ]);
      const events = await all(source.events());
      const train = events.filter((e) => e.phase === 'train');
      assert.equal(train.length, 27, 'the 3 labelled anomalies of the first 30 rows are left out');
      assert.ok(train.every((e) => e.label === 0));
      const stream = events.filter((e) => e.phase === 'stream');
      assert.equal(stream.length, 70);
      assert.equal(stream.filter((e) => e.label === 1).length, 7);
      assert.ok(
        stream.every((e) => e.variant === null),
        'file labels are not injections',
      );
      assert.equal(stream[0]!.key, 'row-30');
      assert.equal(stream[0]!.record.x_1, 1 + (30 % 7));
      assert.equal('label' in stream[0]!.record, false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a file without labels gets seeded injections in its streamed part only', async () => {
    const table = parseCsv(csv(2000, false), { labelColumn: 'label', labelRequired: false });
    const opts = { ...CSV_SOURCE_DEFAULTS, path: 'mem.csv', anomalyShare: 0.2, seed: 5, keyColumn: 'kind' };
    const a = await all(tableSource(table, opts).events());
    const b = await all(tableSource(table, opts).events());
    assert.deepEqual(a, b);
    assert.ok(a.filter((e) => e.phase === 'train').every((e) => e.label === 0));
    const stream = a.filter((e) => e.phase === 'stream');
    const share = stream.filter((e) => e.label === 1).length / stream.length;
    assert.ok(Math.abs(share - 0.2) < 0.05, `share ${share}`);
    assert.ok(stream.filter((e) => e.label === 1).every((e) => e.variant === 'A' || e.variant === 'B'));
    assert.ok(a.every((e) => e.key === e.record.kind));
    assert.deepEqual(
      tableSource(table, opts).features.map((f) => f.name),
      ['x_1', 'x2'],
      'the key column is not a feature',
    );
  });

  test('maxRecords caps the streamed part; colliding or missing columns are named', async () => {
    const table = parseCsv(csv(100, false));
    const capped = tableSource(table, { ...CSV_SOURCE_DEFAULTS, path: 'm', maxRecords: 10 });
    assert.equal((await all(capped.events())).length, 30 + 10);
    const clash = parseCsv('a-b,a_b\n1,2\n3,4\n');
    assert.throws(() => tableSource(clash, { ...CSV_SOURCE_DEFAULTS, path: 'c.csv' }), /"a-b" and "a_b"/);
    assert.throws(() => tableSource(table, { ...CSV_SOURCE_DEFAULTS, path: 'm', keyColumn: 'nope' }), /nope/);
    assert.equal(avroFieldName('9lives'), '_9lives');
  });
});
