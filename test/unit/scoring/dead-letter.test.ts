import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SmaeError } from '../../../shared/errors.js';
import { estimateRecordBytes } from '../../../shared/kafka/record-size.js';
import {
  DEAD_LETTER_HEADERS,
  deadLetterFor,
  fitDeadLetter,
  headerString,
  type SourceMessage,
} from '../../../shared/scoring/index.js';

const source = (value: Buffer, headers: SourceMessage['headers'] = {}): SourceMessage => ({
  topic: 'in',
  partition: 2,
  offset: '77',
  key: Buffer.from('key-1'),
  value,
  timestamp: '1800000000000',
  headers,
});
const err = new SmaeError('DECODE_FAILED', 'bad bytes');

describe('fitDeadLetter', () => {
  test('a dead letter that fits is unchanged', () => {
    const dl = deadLetterFor(source(Buffer.alloc(100, 1)), err, 'p');
    assert.equal(fitDeadLetter(dl, 10_000), dl);
  });

  test('a dead letter too large carries a reference: position, size and hash, said in a header', () => {
    const original = Buffer.alloc(50_000, 7);
    const dl = deadLetterFor(source(original, { trace: 'abc' }), err, 'p');
    const fitted = fitDeadLetter(dl, 10_000);
    assert.ok(estimateRecordBytes(fitted) <= 10_000);
    const sha = createHash('sha256').update(original).digest('hex');
    assert.deepEqual(JSON.parse(fitted.value!.toString()), {
      reference: { topic: 'in', partition: 2, offset: '77', size: 50_000, sha256: sha },
    });
    const h = fitted.headers;
    assert.equal(headerString(h, DEAD_LETTER_HEADERS.payload), 'reference');
    assert.equal(headerString(h, DEAD_LETTER_HEADERS.payloadSize), '50000');
    assert.equal(headerString(h, DEAD_LETTER_HEADERS.payloadSha256), sha);
    assert.equal(headerString(h, DEAD_LETTER_HEADERS.errorCode), 'DECODE_FAILED');
    assert.equal(headerString(h, 'trace'), 'abc', 'original headers kept when they fit');
    assert.equal(fitted.key?.toString(), 'key-1');
  });

  test('huge original headers are dropped too, and said so', () => {
    const dl = deadLetterFor(source(Buffer.alloc(10), { big: 'x'.repeat(20_000) }), err, 'p');
    const fitted = fitDeadLetter(dl, 5_000);
    assert.ok(estimateRecordBytes(fitted) <= 5_000);
    assert.equal(headerString(fitted.headers, 'big'), undefined);
    assert.equal(headerString(fitted.headers, DEAD_LETTER_HEADERS.trimmed), 'headers-dropped');
    assert.equal(headerString(fitted.headers, DEAD_LETTER_HEADERS.sourceOffset), '77');
  });

  test('alwaysReference replaces even a small value', () => {
    const dl = deadLetterFor(source(Buffer.alloc(10)), err, 'p');
    const fitted = fitDeadLetter(dl, 0, { alwaysReference: true });
    assert.equal(headerString(fitted.headers, DEAD_LETTER_HEADERS.payload), 'reference');
  });
});
