import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  chunkBySize,
  estimateRecordBytes,
  RECORD_BATCH_OVERHEAD,
  sendBudget,
  TopicSizeLimits,
} from '../../../shared/kafka/record-size.js';

describe('record sizes', () => {
  test('the estimate counts key, value and headers, and is never below their bytes', () => {
    const bare = estimateRecordBytes({ value: null });
    const r = { key: 'abc', value: Buffer.alloc(1000), headers: { h: 'xy', many: ['1', Buffer.from('22')] } };
    const n = estimateRecordBytes(r);
    assert.ok(n >= bare + 3 + 1000 + 1 + 2 + 4 + 1 + 4 + 2);
    assert.ok(n < bare + 3 + 1000 + 100, 'not wildly over');
  });

  test('chunks keep order, stay under the byte and count bounds, and an oversized item stands alone', () => {
    const sizes = [40, 40, 40, 200, 10, 10, 10, 10];
    const chunks = chunkBySize(sizes, (x) => x, 100, 3);
    assert.deepEqual(chunks, [[40, 40], [40], [200], [10, 10, 10], [10]]);
    assert.deepEqual(chunks.flat(), sizes);
    assert.deepEqual(
      chunkBySize([], (x: number) => x, 10),
      [],
    );
  });

  test('the send budget leaves room for the batch header and the estimate’s slack', () => {
    const b = sendBudget(1_048_588);
    assert.ok(b < 1_048_588 - RECORD_BATCH_OVERHEAD);
    assert.ok(b > 900_000);
  });

  test('limits fall back to the default and are capped', () => {
    const limits = new TopicSizeLimits(1_000_000, 500_000);
    assert.equal(limits.maxMessageBytes('unknown'), 500_000);
    limits.set('small', 32_768);
    assert.equal(limits.maxMessageBytes('small'), 32_768);
    assert.equal(new TopicSizeLimits().maxMessageBytes('x'), 1_048_588);
  });
});
