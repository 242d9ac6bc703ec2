import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../shared/errors.js';
import {
  RecordDecoder,
  encodeRecord,
  parseSchema,
  schemaIdDirectory,
  staticSchemaIds,
  TRANSACTION_SCHEMA,
  type AvroType,
  type SchemaIdResolver,
  type TransactionRecord,
} from '../../../shared/avro/index.js';

const tx: TransactionRecord = {
  accountId: 'acct-1',
  eventTime: 1_700_000_000_000,
  amount: 42.5,
  merchantRisk: 0.1,
  distanceKm: 3,
  hourOfDay: 13,
  itemCount: 2,
  channel: 'web',
};

/** The v1 a producer might still use: no `channel`, int amounts are not allowed, but fields in another order. */
const writerWithoutChannel = parseSchema({
  type: 'record',
  name: 'Transaction',
  namespace: 'producer.v1',
  fields: [
    { name: 'amount', type: 'float' },
    { name: 'accountId', type: 'string' },
    { name: 'eventTime', type: 'long' },
    { name: 'merchantRisk', type: 'double' },
    { name: 'hourOfDay', type: 'int' },
    { name: 'itemCount', type: 'int' },
    { name: 'extra', type: 'string' },
  ],
});

/** The reader with a default for `channel`, so v1 resolves. */
const readerWithDefault = parseSchema({
  type: 'record',
  name: 'Transaction',
  namespace: 'smae.example',
  fields: [
    { name: 'accountId', type: 'string' },
    { name: 'eventTime', type: 'long' },
    { name: 'amount', type: 'double' },
    { name: 'merchantRisk', type: 'double' },
    { name: 'distanceKm', type: ['null', 'double'], default: null },
    { name: 'hourOfDay', type: 'int' },
    { name: 'itemCount', type: 'int' },
    { name: 'channel', type: 'string', default: 'unknown' },
  ],
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    return err.code;
  }
  return undefined;
}

async function asyncCodeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    return err.code;
  }
  return undefined;
}

describe('RecordDecoder', () => {
  test('raw Avro decodes synchronously with the reader schema', () => {
    const dec = new RecordDecoder({ readerSchema: TRANSACTION_SCHEMA });
    const out = dec.decode(encodeRecord(TRANSACTION_SCHEMA, tx));
    assert.ok(!(out instanceof Promise));
    assert.equal(out.schemaId, null);
    assert.deepEqual({ ...out.value }, tx);
  });

  test('Confluent framing resolves the writer schema once per id, then decodes synchronously', async () => {
    let lookups = 0;
    const ids = staticSchemaIds({ 7: writerWithoutChannel, 8: TRANSACTION_SCHEMA });
    const resolve: SchemaIdResolver = (id) => {
      lookups++;
      return ids(id);
    };
    const dec = new RecordDecoder({ readerSchema: readerWithDefault, resolveSchemaId: resolve });
    const v1 = {
      amount: 1.5,
      accountId: 'a',
      eventTime: 5,
      merchantRisk: 0.5,
      hourOfDay: 1,
      itemCount: 3,
      extra: 'x',
    };
    const bytes = encodeRecord(writerWithoutChannel, v1, { schemaId: 7 });

    const [a, b] = await Promise.all([dec.decodeAsync(bytes), dec.decodeAsync(bytes)]);
    assert.equal(lookups, 1, 'concurrent first uses share one lookup');
    assert.deepEqual(a, b);
    assert.equal(a.schemaId, 7);
    // Resolution: float widened to double, removed field skipped, added fields take their defaults.
    assert.deepEqual(
      { ...a.value },
      {
        accountId: 'a',
        eventTime: 5,
        amount: 1.5,
        merchantRisk: 0.5,
        distanceKm: null,
        hourOfDay: 1,
        itemCount: 3,
        channel: 'unknown',
      },
    );
    const again = dec.decode(bytes);
    assert.ok(!(again instanceof Promise), 'a cached id decodes synchronously');
    assert.equal(lookups, 1);
    assert.equal(dec.cachedSchemaIds, 1);

    const same = await dec.decodeAsync(encodeRecord(TRANSACTION_SCHEMA, tx, { schemaId: 8 }));
    assert.equal(same.value.channel, 'web');
    assert.equal(lookups, 2);
  });

  test('empty and missing values are EMPTY_RECORD', () => {
    const dec = new RecordDecoder({ readerSchema: TRANSACTION_SCHEMA });
    assert.equal(
      codeOf(() => dec.decode(null)),
      'EMPTY_RECORD',
    );
    assert.equal(
      codeOf(() => dec.decode(Buffer.alloc(0))),
      'EMPTY_RECORD',
    );
  });

  test('corrupt bytes are DECODE_FAILED, truncated and trailing alike', () => {
    const dec = new RecordDecoder({ readerSchema: TRANSACTION_SCHEMA, wireFormat: 'raw' });
    const good = encodeRecord(TRANSACTION_SCHEMA, tx);
    assert.equal(
      codeOf(() => dec.decode(good.subarray(0, good.length - 3))),
      'DECODE_FAILED',
    );
    assert.equal(
      codeOf(() => dec.decode(Buffer.concat([good, Buffer.from([1, 2])]))),
      'DECODE_FAILED',
    );
    assert.equal(
      codeOf(() => dec.decode(Buffer.from('this is not avro at all'))),
      'DECODE_FAILED',
    );
  });

  test('an unknown schema id is UNKNOWN_SCHEMA_ID and is remembered for a while', async () => {
    let lookups = 0;
    const dec = new RecordDecoder({
      readerSchema: TRANSACTION_SCHEMA,
      wireFormat: 'confluent',
      resolveSchemaId: () => {
        lookups++;
        return undefined;
      },
    });
    const bytes = encodeRecord(TRANSACTION_SCHEMA, tx, { schemaId: 99 });
    assert.equal(await asyncCodeOf(() => dec.decode(bytes)), 'UNKNOWN_SCHEMA_ID');
    assert.equal(
      codeOf(() => dec.decode(bytes)),
      'UNKNOWN_SCHEMA_ID',
      'the second time fails synchronously',
    );
    assert.equal(lookups, 1);
  });

  test('an unknown id is asked again after unknownIdRetryMs', async () => {
    let known = false;
    const dec = new RecordDecoder({
      readerSchema: TRANSACTION_SCHEMA,
      wireFormat: 'confluent',
      unknownIdRetryMs: 0,
      resolveSchemaId: () => (known ? TRANSACTION_SCHEMA : undefined),
    });
    const bytes = encodeRecord(TRANSACTION_SCHEMA, tx, { schemaId: 5 });
    assert.equal(await asyncCodeOf(() => dec.decode(bytes)), 'UNKNOWN_SCHEMA_ID');
    known = true;
    assert.equal((await dec.decodeAsync(bytes)).value.accountId, 'acct-1');
  });

  test('without a resolver a framed record is UNKNOWN_SCHEMA_ID with a hint', async () => {
    const dec = new RecordDecoder({ readerSchema: TRANSACTION_SCHEMA, wireFormat: 'confluent' });
    await assert.rejects(
      dec.decodeAsync(encodeRecord(TRANSACTION_SCHEMA, tx, { schemaId: 1 })),
      (err: unknown) =>
        err instanceof InputError &&
        err.code === 'UNKNOWN_SCHEMA_ID' &&
        /no schema id resolver/.test(err.message),
    );
  });

  test('a writer schema that cannot be resolved is SCHEMA_MISMATCH', async () => {
    const noAmount = parseSchema({
      type: 'record',
      name: 'Transaction',
      fields: [
        { name: 'accountId', type: 'string' },
        { name: 'eventTime', type: 'long' },
      ],
    });
    const amountAsString = parseSchema({
      type: 'record',
      name: 'Transaction',
      fields: [{ name: 'amount', type: 'string' }],
    });
    const dec = new RecordDecoder({
      readerSchema: TRANSACTION_SCHEMA,
      resolveSchemaId: staticSchemaIds({ 1: noAmount, 2: amountAsString }),
    });
    const a = encodeRecord(noAmount, { accountId: 'x', eventTime: 1 }, { schemaId: 1 });
    const b = encodeRecord(amountAsString, { amount: 'x' }, { schemaId: 2 });
    assert.equal(await asyncCodeOf(() => dec.decode(a)), 'SCHEMA_MISMATCH');
    assert.equal(await asyncCodeOf(() => dec.decode(b)), 'SCHEMA_MISMATCH');
    assert.equal(
      codeOf(() => dec.decode(a)),
      'SCHEMA_MISMATCH',
      'the mismatch is cached',
    );
  });

  test('confluent mode refuses unframed bytes; raw mode reads a leading zero as data', () => {
    const dec = new RecordDecoder({ readerSchema: TRANSACTION_SCHEMA, wireFormat: 'confluent' });
    assert.equal(
      codeOf(() => dec.decode(encodeRecord(TRANSACTION_SCHEMA, tx))),
      'DECODE_FAILED',
    );
    const emptyKey = encodeRecord(TRANSACTION_SCHEMA, { ...tx, accountId: '' });
    assert.equal(emptyKey[0], 0, 'an empty first string encodes as a zero byte');
    const raw = new RecordDecoder({ readerSchema: TRANSACTION_SCHEMA, wireFormat: 'raw' });
    const out = raw.decode(emptyKey);
    assert.ok(!(out instanceof Promise));
    assert.equal(out.value.accountId, '');
  });

  test('auto mode falls back to raw Avro when a zero-led value names no known id', async () => {
    const dec = new RecordDecoder({ readerSchema: TRANSACTION_SCHEMA, resolveSchemaId: () => undefined });
    const emptyKey = encodeRecord(TRANSACTION_SCHEMA, { ...tx, accountId: '' });
    const out = await dec.decodeAsync(emptyKey);
    assert.equal(out.schemaId, null);
    assert.equal(out.value.amount, 42.5);
  });

  test('a raw writer schema different from the reader is resolved', () => {
    const v1 = {
      amount: 2,
      accountId: 'b',
      eventTime: 9,
      merchantRisk: 0.2,
      hourOfDay: 4,
      itemCount: 1,
      extra: '',
    };
    const dec = new RecordDecoder({
      readerSchema: readerWithDefault,
      rawWriterSchema: writerWithoutChannel,
      wireFormat: 'raw',
    });
    const out = dec.decode(encodeRecord(writerWithoutChannel, v1));
    assert.ok(!(out instanceof Promise));
    assert.equal(out.value.channel, 'unknown');
    assert.equal(out.value.amount, 2);
  });
});

describe('schema id resolvers', () => {
  test('schemaIdDirectory reads <id>.avsc and treats a missing file as unknown', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smae-ids-'));
    try {
      await writeFile(join(dir, '12.avsc'), JSON.stringify(TRANSACTION_SCHEMA.schema()));
      const resolve = schemaIdDirectory(dir);
      const t = (await resolve(12)) as AvroType;
      assert.ok(t.equals(TRANSACTION_SCHEMA));
      assert.equal(await resolve(13), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
