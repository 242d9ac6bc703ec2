import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFencingError, transactionalIdFor } from '../../../services/scorer/delivery.js';

test('transactional ids are per input partition, so ownership moves with the partition', () => {
  assert.equal(transactionalIdFor('pay.scorer.tx', 'pay.records', 3), 'pay.scorer.tx.pay.records.3');
});

test('fencing errors are recognised, also when wrapped', () => {
  assert.ok(isFencingError({ type: 'INVALID_PRODUCER_EPOCH' }));
  assert.ok(isFencingError({ type: 'PRODUCER_FENCED' }));
  assert.ok(isFencingError(Object.assign(new Error('wrapped'), { cause: { code: 47 } })));
  assert.ok(!isFencingError(new Error('REQUEST_TIMED_OUT')));
  assert.ok(!isFencingError(undefined));
});
