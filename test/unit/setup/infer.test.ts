import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../shared/errors.js';
import { inferSetup, isIsoDate } from '../../../shared/setup/infer.js';

/** 150 rows: an id, an ISO time, a category, two measures, free text, a constant, a label. */
function rows(n = 150): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    device_id: `d-${i % 30}`,
    seen_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    kind: ['pump', 'fan', 'valve'][i % 3],
    power: 10 + (i % 17) * 0.5,
    temp: 20 + (i % 5),
    comment: `free text ${i}`,
    unit: 'kW',
    label: i % 50 === 0 ? 1 : 0,
  }));
}
const COLUMNS = Object.keys(rows(1)[0]!);

describe('inferSetup', () => {
  test('finds features by kind, a key, an event time, and says why each other column is left out', () => {
    const s = inferSetup(COLUMNS, rows());
    assert.deepEqual(s.numeric, ['power', 'temp']);
    assert.deepEqual(s.categorical, ['kind']);
    assert.equal(s.keyField, 'device_id');
    assert.equal(s.eventTimeField, 'seen_at');
    assert.equal(s.eventTimeFormat, 'iso-8601');
    assert.equal(s.labelColumn, 'label');
    const why = Object.fromEntries(s.leftOut.map((l) => [l.column, l.reason]));
    assert.deepEqual(Object.keys(why).sort(), ['comment', 'label', 'unit']);
    assert.match(why['label']!, /label column/);
    assert.match(why['comment']!, /150 distinct values/);
    assert.match(why['unit']!, /constant \(always "kW"\)/);
    assert.deepEqual(
      s.spec.features.map((f) => `${f.kind}:${f.name}`),
      ['categorical:kind', 'numeric:power', 'numeric:temp'],
    );
    assert.equal(s.spec.impute, 'error');
    assert.deepEqual(s.nullable, []);
    assert.equal(s.sampleRows, 150);
  });

  test('epoch-millisecond times are event times only under a time-like name', () => {
    const data = rows().map((r, i) => ({
      ts: 1_767_225_600_000 + i * 1000,
      reading: 1_767_225_600_000 + i,
      power: r.power,
    }));
    const s = inferSetup(['ts', 'reading', 'power'], data);
    assert.equal(s.eventTimeField, 'ts');
    assert.equal(s.eventTimeFormat, 'epoch-millis');
    assert.deepEqual(s.numeric, ['reading', 'power']);
  });

  test('epoch seconds under a name like window_start; a second time column is left out', () => {
    const data = rows().map((r, i) => ({
      window_start: 1_767_225_600 + i * 60,
      window_end: 1_767_225_660 + i * 60,
      power: r.power,
    }));
    const s = inferSetup(['window_start', 'window_end', 'power'], data);
    assert.equal(s.eventTimeField, 'window_start');
    assert.equal(s.eventTimeFormat, 'epoch-seconds');
    assert.match(s.leftOut[0]!.reason, /^timestamps: not a feature/);
    assert.deepEqual(s.numeric, ['power']);
  });

  test('missing values make the field nullable and the imputation the training mean', () => {
    const data = rows().map((r, i) => ({ ...r, temp: i % 10 === 0 ? '' : r.temp }));
    const s = inferSetup(COLUMNS, data);
    assert.deepEqual(s.nullable, ['temp']);
    assert.equal(s.spec.impute, 'mean');
  });

  test('overrides: key, event time, exclusions and forced categories; --key none', () => {
    const s = inferSetup(COLUMNS, rows(), {
      key: 'kind',
      eventTime: false,
      exclude: ['temp'],
      categorical: ['comment'],
    });
    assert.equal(s.keyField, 'kind');
    assert.equal(s.eventTimeField, null);
    // device_id, no longer the key, has 30 distinct ids: a category (devices), not a quantity
    assert.deepEqual(s.categorical, ['device_id', 'comment']);
    assert.deepEqual(s.numeric, ['power']);
    const why = Object.fromEntries(s.leftOut.map((l) => [l.column, l.reason]));
    assert.match(why['temp']!, /excluded/);
    assert.match(why['seen_at']!, /timestamps: not a feature/);
    const none = inferSetup(COLUMNS, rows(), { key: false });
    assert.equal(none.keyField, null);
  });

  test('a few ids are categories; many are identifiers', () => {
    const few = inferSetup(
      ['store_id', 'sales'],
      rows().map((_, i) => ({ store_id: i % 4, sales: i * 1.5 })),
      {
        key: false,
      },
    );
    assert.deepEqual(few.categorical, ['store_id']);
    const many = inferSetup(
      ['order_id', 'sales'],
      rows().map((_, i) => ({ order_id: i, sales: i * 1.5 })),
      {
        key: false,
      },
    );
    assert.match(many.leftOut[0]!.reason, /an identifier \(150 distinct values\)/);
  });

  test('column names Avro cannot carry are left out with the fix', () => {
    const s = inferSetup(
      ['power (kW)', 'temp'],
      rows().map((r) => ({ 'power (kW)': r.power, temp: r.temp })),
    );
    assert.match(s.leftOut[0]!.reason, /not a valid Avro field name/);
    assert.deepEqual(s.numeric, ['temp']);
  });

  test('errors name what is wrong: unknown columns, a non-time event time, nothing left', () => {
    assert.throws(
      () => inferSetup(COLUMNS, rows(), { key: 'nope', categorical: ['zip'] }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues.some((i) => i.path === '--key' && /no column "nope"/.test(i.message)) &&
        e.issues.some((i) => i.path === '--categorical'),
    );
    assert.throws(
      () => inferSetup(COLUMNS, rows(), { eventTime: 'kind' }),
      (e: unknown) => e instanceof ConfigError && /does not hold timestamps/.test(e.issues[0]!.message),
    );
    assert.throws(
      () => inferSetup(['unit'], rows()),
      (e: unknown) =>
        e instanceof ConfigError && /no feature columns left \(unit: constant/.test(e.issues[0]!.message),
    );
    assert.throws(() => inferSetup(COLUMNS, []), ConfigError);
  });
});

describe('isIsoDate', () => {
  test('dates and date-times with zones, not numbers or free text', () => {
    for (const ok of [
      '2024-05-01',
      '2024-05-01T10:00:00Z',
      '2024-05-01 10:00:00+02:00',
      '2024-05-01T10:00:00.123Z',
    ])
      assert.ok(isIsoDate(ok), ok);
    for (const no of ['20240501', '2024-13-45', 'May 1 2024', '12:00', '2024-05-01T'])
      assert.ok(!isIsoDate(no), no);
  });
});
