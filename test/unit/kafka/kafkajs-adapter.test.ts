import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFencingError, isRecordRejection } from '../../../shared/kafka/kafkajs-adapter.js';

test('fencing errors are recognised, also when wrapped', () => {
  assert.ok(isFencingError({ type: 'INVALID_PRODUCER_EPOCH' }));
  assert.ok(isFencingError({ type: 'PRODUCER_FENCED' }));
  assert.ok(isFencingError(Object.assign(new Error('wrapped'), { cause: { code: 47 } })));
  assert.ok(!isFencingError(new Error('REQUEST_TIMED_OUT')));
  assert.ok(!isFencingError(undefined));
});

test('record rejections (size, content) are told apart from other failures', () => {
  assert.ok(isRecordRejection({ type: 'MESSAGE_TOO_LARGE' }));
  assert.ok(
    isRecordRejection(Object.assign(new Error('retries'), { cause: { type: 'RECORD_LIST_TOO_LARGE' } })),
  );
  assert.ok(!isRecordRejection({ type: 'CONCURRENT_TRANSACTIONS' }));
  assert.ok(!isRecordRejection(new Error('deliberately stuck')));
});
