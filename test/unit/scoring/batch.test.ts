import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  FLAG_SCHEMA,
  SCORE_SCHEMA,
  RecordDecoder,
  TRANSACTION_SCHEMA,
  encodeRecord,
  staticSchemaIds,
  type FlagRecord,
  type TransactionRecord,
} from '../../../shared/avro/index.js';
import { SmaeError } from '../../../shared/errors.js';
import {
  BatchScorer,
  DEAD_LETTER_HEADERS,
  decodeWindowEntry,
  encodeWindowEntry,
  headerString,
  type SourceMessage,
} from '../../../shared/scoring/index.js';
import { FakeModel } from './fake-model.js';
import { NO_AMOUNT_SCHEMA } from '../../fixtures/transactions.js';

const COLUMNS = ['amount', 'merchantRisk', 'itemCount'];

function tx(i: number, over: Partial<TransactionRecord> = {}): TransactionRecord {
  return {
    accountId: `acct-${i}`,
    eventTime: 1_700_000_000_000 + i,
    amount: 0.5,
    merchantRisk: 0.1,
    distanceKm: 1,
    hourOfDay: 12,
    itemCount: 1,
    channel: 'web',
    ...over,
  };
}

function msg(offset: number, value: Buffer | null, extra: Partial<SourceMessage> = {}): SourceMessage {
  return {
    topic: 'in',
    partition: 3,
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value,
    timestamp: String(1_800_000_000_000 + offset),
    headers: { trace: Buffer.from(`t${offset}`) },
    ...extra,
  };
}

function scorer(opts: Partial<ConstructorParameters<typeof BatchScorer>[0]> = {}): BatchScorer {
  return new BatchScorer({
    pipeline: 'p1',
    decoder: new RecordDecoder({
      readerSchema: TRANSACTION_SCHEMA,
      resolveSchemaId: staticSchemaIds({ 1: TRANSACTION_SCHEMA, 2: NO_AMOUNT_SCHEMA }),
    }),
    now: () => 42,
    ...opts,
  });
}

describe('BatchScorer', () => {
  test('scores the batch as one matrix and flags only rows over the threshold', async () => {
    const model = new FakeModel(7, COLUMNS, 10);
    const messages = [
      msg(0, encodeRecord(TRANSACTION_SCHEMA, tx(0))),
      msg(1, encodeRecord(TRANSACTION_SCHEMA, tx(1, { amount: 100 }))),
      msg(2, encodeRecord(TRANSACTION_SCHEMA, tx(2), { schemaId: 1 })),
      msg(3, encodeRecord(TRANSACTION_SCHEMA, tx(3, { itemCount: 50, amount: 2 }))),
    ];
    const out = await scorer({ eventTimeField: 'eventTime', keyField: 'accountId' }).score(messages, model);
    assert.equal(model.prepareCalls, 1);
    assert.deepEqual(model.scoreCalls, [4], 'one scoreMatrix call for the whole batch');
    assert.equal(out.records, 4);
    assert.equal(out.scored, 4);
    assert.equal(out.flagged, 2);
    assert.equal(out.deadLetters.length, 0);
    assert.equal(out.modelVersion, 7);

    const flags = out.flags.map((f) => ({
      key: f.key,
      value: FLAG_SCHEMA.fromBuffer(f.value!) as FlagRecord,
    }));
    assert.deepEqual(
      flags.map((f) => f.key),
      ['in:3:1', 'in:3:3'],
    );
    const first = flags[0]!.value;
    assert.equal(first.pipeline, 'p1');
    assert.equal(first.topic, 'in');
    assert.equal(first.partition, 3);
    assert.equal(first.offset, 1);
    assert.equal(first.key, 'acct-1', 'the configured key field wins over the Kafka key');
    assert.equal(
      first.eventTime,
      1_700_000_000_001,
      'the configured event-time field wins over the timestamp',
    );
    assert.equal(first.modelVersion, 7);
    assert.equal(first.threshold, 10);
    assert.equal(first.flaggedAt, 42);
    assert.ok(first.score > 10);
    assert.equal(first.topFeatures[0]!.name, 'amount');
    assert.ok(first.topFeatures[0]!.share > 0.99);
    assert.equal(flags[1]!.value.topFeatures[0]!.name, 'itemCount');
  });

  test('bad records become dead letters with their bytes, key and headers; the rest flows', async () => {
    const model = new FakeModel(1, COLUMNS, 10);
    const corrupt = Buffer.from([0x02, 0x41, 0xff, 0xff]);
    const unknownId = encodeRecord(TRANSACTION_SCHEMA, tx(2), { schemaId: 999 });
    const mismatch = encodeRecord(NO_AMOUNT_SCHEMA, { accountId: 'x' }, { schemaId: 2 });
    const nan = encodeRecord(TRANSACTION_SCHEMA, tx(4, { amount: Number.NaN }));
    const messages = [
      msg(0, encodeRecord(TRANSACTION_SCHEMA, tx(0))),
      msg(1, corrupt),
      msg(2, unknownId),
      msg(3, mismatch),
      msg(4, nan),
      msg(5, null),
      msg(6, encodeRecord(TRANSACTION_SCHEMA, tx(6, { amount: 100 }))),
    ];
    const out = await scorer().score(messages, model);
    assert.equal(out.scored, 2);
    assert.equal(out.flagged, 1);
    assert.deepEqual(model.scoreCalls, [2]);
    const byOffset = new Map(
      out.deadLetters.map((d) => [headerString(d.headers, DEAD_LETTER_HEADERS.sourceOffset), d]),
    );
    const codes = Object.fromEntries(
      [...byOffset].map(([o, d]) => [o, headerString(d.headers, DEAD_LETTER_HEADERS.errorCode)]),
    );
    assert.deepEqual(codes, {
      '1': 'DECODE_FAILED',
      '2': 'UNKNOWN_SCHEMA_ID',
      '3': 'SCHEMA_MISMATCH',
      '4': 'NON_FINITE_VALUE',
      '5': 'EMPTY_RECORD',
    });
    const d1 = byOffset.get('1')!;
    assert.deepEqual(d1.value, corrupt, 'original bytes');
    assert.deepEqual(d1.key, Buffer.from('k1'), 'original key');
    assert.equal(headerString(d1.headers, 'trace'), 't1', 'original headers kept');
    assert.equal(headerString(d1.headers, DEAD_LETTER_HEADERS.sourceTopic), 'in');
    assert.equal(headerString(d1.headers, DEAD_LETTER_HEADERS.sourcePartition), '3');
    assert.match(headerString(d1.headers, DEAD_LETTER_HEADERS.errorMessage)!, /cannot decode/);
    assert.equal(headerString(byOffset.get('4')!.headers, DEAD_LETTER_HEADERS.errorField), 'amount');
    assert.equal(out.deadLettersByCode.get('DECODE_FAILED'), 1);
    assert.equal(out.deadLettersByCode.get('NON_FINITE_VALUE'), 1);
    assert.equal(out.deadLetters.length, 5);
  });

  test('an error that is not about a record propagates (the batch is retried)', async () => {
    const failing = new BatchScorer({
      pipeline: 'p',
      decoder: {
        decode: () => Promise.reject(new SmaeError('INFRA_UNAVAILABLE', 'registry down')),
      },
    });
    await assert.rejects(
      failing.score([msg(0, Buffer.from([1]))], new FakeModel(1, COLUMNS, 1)),
      /registry down/,
    );
  });

  test('a record over maxRecordBytes is dead-lettered without being decoded', async () => {
    let decoded = 0;
    const inner = new RecordDecoder({
      readerSchema: TRANSACTION_SCHEMA,
      resolveSchemaId: staticSchemaIds({ 1: TRANSACTION_SCHEMA }),
    });
    const counting = scorer({
      maxRecordBytes: 200,
      decoder: { decode: (b) => (decoded++, inner.decode(b)) },
    });
    const small = encodeRecord(TRANSACTION_SCHEMA, tx(0), { schemaId: 1 });
    const big = encodeRecord(TRANSACTION_SCHEMA, tx(1, { accountId: 'x'.repeat(300) }), { schemaId: 1 });
    const out = await counting.score([msg(0, small), msg(1, big)], new FakeModel(1, COLUMNS, 10));
    assert.equal(decoded, 1, 'only the small record is decoded');
    assert.equal(out.scored, 1);
    assert.equal(out.deadLetters.length, 1);
    assert.equal(
      headerString(out.deadLetters[0]!.headers, DEAD_LETTER_HEADERS.errorCode),
      'RECORD_TOO_LARGE',
    );
    assert.deepEqual(out.deadLetters[0]!.value, big);
  });

  test('scores topic and window sampling', async () => {
    const model = new FakeModel(null, COLUMNS, 10);
    const messages = Array.from({ length: 10 }, (_, i) =>
      msg(i, encodeRecord(TRANSACTION_SCHEMA, tx(i, i === 9 ? { amount: 1000 } : {}))),
    );
    let n = 0;
    const out = await scorer({ emitScores: true, windowSampleRate: 0.5, random: () => (n++ % 2) / 2 }).score(
      messages,
      model,
    );
    assert.equal(out.scores.length, 10);
    const s9 = SCORE_SCHEMA.fromBuffer(out.scores[9]!.value!) as {
      isAnomaly: boolean;
      offset: number;
      key: string;
    };
    assert.equal(s9.isAnomaly, true);
    assert.equal(s9.offset, 9);
    assert.equal(s9.key, 'k9', 'the Kafka key when no key field is configured');
    assert.equal(out.window.length, 5);
    const w = out.window.at(-1)!;
    assert.equal(w.source, 'in:3:8');
    assert.equal(w.time, 1_800_000_000_008, 'the Kafka timestamp when no event-time field is configured');

    const none = await scorer({ windowSampleRate: 0 }).score(messages, model);
    assert.equal(none.window.length, 0);
    assert.equal(none.scores.length, 0);
  });

  test('an empty or all-bad batch never calls scoreMatrix', async () => {
    const model = new FakeModel(1, COLUMNS, 1);
    const out = await scorer().score([msg(0, null)], model);
    assert.deepEqual(model.scoreCalls, []);
    assert.equal(out.deadLetters.length, 1);
  });

  test('window entries round-trip through the stream encoding', () => {
    const e = {
      features: { amount: 1.5, channel: 'web', distanceKm: null },
      score: 0.25,
      flagged: true,
      threshold: 0.2,
      key: 'a',
      time: 123,
      modelVersion: 4,
      source: 'in:0:5',
    };
    assert.deepEqual(decodeWindowEntry(encodeWindowEntry(e)), e);
    assert.deepEqual(decodeWindowEntry(encodeWindowEntry({ ...e, key: null, modelVersion: null })), {
      ...e,
      key: null,
      modelVersion: null,
    });
    assert.equal(decodeWindowEntry(['score', 'x']), undefined);
  });
});
