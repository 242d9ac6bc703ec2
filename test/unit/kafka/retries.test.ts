import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRetry } from '../../../shared/kafka/retries.js';

const CONCURRENT =
  'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

test('kafkajs retry lines of retriable broker errors are recognised; failures are not', () => {
  assert.deepEqual(classifyRetry(`Failed to send messages: ${CONCURRENT}`, { retryCount: 0, retryTime: 5 }), {
    type: 'CONCURRENT_TRANSACTIONS',
    isRetry: true,
  });
  assert.deepEqual(classifyRetry('Response AddPartitionsToTxn(key: 24, version: 1)', { error: CONCURRENT }), {
    type: 'CONCURRENT_TRANSACTIONS',
    isRetry: false,
  });
  const tooLarge = 'The request included a message larger than the max message size the server will accept';
  assert.equal(classifyRetry(tooLarge, { retryCount: 0 }), null, 'not retriable: stays an error');
  assert.equal(classifyRetry('Response Produce(key: 0, version: 7)', { error: tooLarge }), null);
  assert.equal(classifyRetry('Crash: something', {}), null);
});
