import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../../shared/errors.js';
import {
  RecordDecoder,
  RecordWriter,
  encodeRecord,
  isConfluentFramed,
  parseSchema,
  TRANSACTION_SCHEMA,
  type TransactionRecord,
} from '../../../shared/avro/index.js';
import { normalTransaction, rng } from '../../fixtures/transactions.js';

const tx: TransactionRecord = normalTransaction(1, rng(7), 1_700_000_000_000);

describe('encodeRecord', () => {
  test('raw Avro has no header; Confluent framing has magic 0 and a big-endian id', () => {
    const raw = encodeRecord(TRANSACTION_SCHEMA, tx);
    const framed = encodeRecord(TRANSACTION_SCHEMA, tx, { schemaId: 258 });
    assert.equal(framed.length, raw.length + 5);
    assert.deepEqual([...framed.subarray(0, 5)], [0, 0, 0, 1, 2]);
    assert.deepEqual(framed.subarray(5), raw);
    assert.ok(isConfluentFramed(framed));
  });

  test('a value that does not fit the schema is WRONG_TYPE naming the field', () => {
    assert.throws(
      () => encodeRecord(TRANSACTION_SCHEMA, { ...tx, amount: 'lots' }),
      (err: unknown) => err instanceof InputError && err.code === 'WRONG_TYPE' && /amount/.test(err.message),
    );
  });

  test('NaN is valid Avro (the preprocessor, not the codec, refuses it)', () => {
    const dec = new RecordDecoder({ readerSchema: TRANSACTION_SCHEMA });
    const out = dec.decode(encodeRecord(TRANSACTION_SCHEMA, { ...tx, amount: Number.NaN }));
    assert.ok(!(out instanceof Promise));
    assert.ok(Number.isNaN(out.value.amount));
  });
});

describe('RecordWriter', () => {
  test('writes the same bytes as encodeRecord, raw and framed', () => {
    const w = new RecordWriter();
    const raw = w.write(TRANSACTION_SCHEMA, tx);
    const framed = w.write(TRANSACTION_SCHEMA, tx, { schemaId: 258 });
    assert.deepEqual(raw, encodeRecord(TRANSACTION_SCHEMA, tx));
    assert.deepEqual(framed, encodeRecord(TRANSACTION_SCHEMA, tx, { schemaId: 258 }));
  });

  test('views stay intact across chunks: thousands of records, each decodes to its own value', () => {
    const w = new RecordWriter();
    const out = Array.from({ length: 5000 }, (_, i) =>
      w.write(TRANSACTION_SCHEMA, { ...tx, accountId: `acct-${i}`, amount: i }, { schemaId: 1 }),
    );
    // 5,000 records of ~40 bytes span several 64 KiB chunks; none is overwritten by a later one.
    const chunks = new Set(out.map((b) => b.buffer));
    assert.ok(chunks.size > 1, `expected several chunks, got ${chunks.size}`);
    for (let i = 0; i < out.length; i++) {
      const body = TRANSACTION_SCHEMA.fromBuffer(out[i]!.subarray(5)) as TransactionRecord;
      assert.equal(body.accountId, `acct-${i}`);
      assert.equal(body.amount, i);
    }
  });

  test('a record larger than a chunk gets a chunk of its own', () => {
    const blob = parseSchema({ type: 'record', name: 'Blob', fields: [{ name: 'b', type: 'string' }] });
    const w = new RecordWriter();
    const small = w.write(blob, { b: 'x' });
    const big = w.write(blob, { b: 'y'.repeat(200_000) }, { schemaId: 3 });
    assert.equal((blob.fromBuffer(big.subarray(5)) as { b: string }).b.length, 200_000);
    assert.equal((blob.fromBuffer(small) as { b: string }).b, 'x');
  });

  test('a value that does not fit is WRONG_TYPE, and the writer goes on', () => {
    const w = new RecordWriter();
    assert.throws(
      () => w.write(TRANSACTION_SCHEMA, { ...tx, amount: 'lots' }),
      (err: unknown) => err instanceof InputError && err.code === 'WRONG_TYPE',
    );
    assert.deepEqual(w.write(TRANSACTION_SCHEMA, tx), encodeRecord(TRANSACTION_SCHEMA, tx));
  });

  test('a schema id out of range is a RangeError', () => {
    assert.throws(() => new RecordWriter().write(TRANSACTION_SCHEMA, tx, { schemaId: -1 }), RangeError);
  });
});
