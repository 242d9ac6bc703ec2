import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchema } from '../../../shared/avro/schemas.js';
import { rowConverter } from '../../../shared/data/to-record.js';
import { SmaeError } from '../../../shared/errors.js';

const TYPE = parseSchema({
  type: 'record',
  name: 'R',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'x', type: 'double' },
    { name: 'n', type: 'int' },
    { name: 'opt', type: ['null', 'double'], default: null },
    { name: 'on', type: 'boolean' },
    { name: 'c', type: { type: 'enum', name: 'C', symbols: ['a', 'b'] } },
  ],
} as never);

describe('rowConverter', () => {
  const convert = rowConverter(TYPE, 'f.csv');

  test('cells become values of each field type; extra columns are ignored', () => {
    const rec = convert(
      { id: 17, at: '2026-01-05T00:00:30Z', x: 1.5, n: '3', opt: '', on: 'true', c: 'b', label: 1 },
      2,
    );
    assert.deepEqual(rec, {
      id: '17',
      at: Date.UTC(2026, 0, 5, 0, 0, 30),
      x: 1.5,
      n: 3,
      opt: null,
      on: true,
      c: 'b',
    });
    assert.ok(TYPE.isValid(rec));
    assert.equal(
      convert({ id: 'a', at: 1_767_571_230_000, x: '2', n: 0, opt: 4, on: 0, c: 'a' }, 3)['at'],
      1_767_571_230_000,
    );
  });

  test('with the schema JSON, a timestamp-millis field takes epoch seconds too', () => {
    const json = {
      type: 'record',
      name: 'T',
      fields: [
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'count', type: 'long' },
      ],
    };
    const toRecord = rowConverter(parseSchema(JSON.stringify(json)), 't.csv', json);
    assert.deepEqual(toRecord({ at: 1_767_571_230, count: 1_767_571_230 }, 2), {
      at: 1_767_571_230_000,
      count: 1_767_571_230,
    });
    assert.equal(toRecord({ at: 1_767_571_230_000, count: 1 }, 3)['at'], 1_767_571_230_000);
  });

  test('a cell that cannot be its field is an error naming the line, the column and the need', () => {
    const base = { id: 'a', at: 1, x: 1, n: 1, opt: 1, on: 1, c: 'a' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, x: 'high' }, /line 7, column "x": "high" cannot be a double/],
      [{ ...base, n: 1.5 }, /column "n": 1\.5 cannot be a int \(a whole number\)/],
      [{ ...base, x: '' }, /column "x": no value cannot be a double \(the field is not nullable\)/],
      [{ ...base, on: 'maybe' }, /cannot be a boolean/],
      [{ ...base, c: 'z' }, /cannot be a symbol of a\|b/],
      [{ ...base, at: '2026-99-99' }, /column "at".*timestamp/],
    ];
    for (const [row, message] of cases) {
      assert.throws(
        () => convert(row, 7),
        (e: unknown) => e instanceof SmaeError && e.code === 'BAD_DATA_FILE' && message.test(e.message),
        String(message),
      );
    }
  });
});
