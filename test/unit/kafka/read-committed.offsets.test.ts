import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommittedFilter } from '../../../shared/kafka/read-committed.js';
import { ABORT, COMMIT, rec } from '../../helpers/committed-records.js';
import { FLUSH_KEY, isFlushRecord } from '../../../shared/kafka/committed-reader.js';

test('the committable offset never passes the first record of an open transaction', () => {
  const f = new CommittedFilter<ReturnType<typeof rec>>();
  assert.equal(f.committableOffset(0), undefined);
  f.push(0, rec(10, null));
  assert.equal(f.committableOffset(0), 11n);
  f.push(0, rec(11, 'A'));
  f.push(0, rec(12, 'B'));
  f.push(0, rec(13, 'A'));
  assert.equal(f.nextOffset(0), 14n);
  assert.equal(f.committableOffset(0), 11n, 'A is open from 11');
  f.push(0, rec(14, 'A', COMMIT));
  assert.equal(f.committableOffset(0), 12n, 'B is open from 12');
  f.push(0, rec(15, 'B', ABORT));
  assert.equal(f.committableOffset(0), 16n);
  // Another partition's open transaction does not hold this one back.
  f.push(1, rec(3, 'A'));
  assert.equal(f.committableOffset(0), 16n);
  assert.equal(f.committableOffset(1), 3n);
  assert.equal(f.pendingIn(0), 0);
  assert.equal(f.pendingIn(1), 1);
});

test('reset forgets one partition (or all) so a re-read starts clean', () => {
  const f = new CommittedFilter<ReturnType<typeof rec>>();
  f.push(0, rec(0, 'A'));
  f.push(1, rec(0, 'A'));
  f.reset(0);
  assert.equal(f.pendingIn(0), 0);
  assert.equal(f.nextOffset(0), undefined);
  assert.equal(f.pendingIn(1), 1);
  // Re-read after the reset: the transaction is released once, whole.
  f.push(0, rec(0, 'A'));
  assert.deepEqual(
    f.push(0, rec(1, 'A', COMMIT)).map((r) => r.id),
    ['A@0'],
  );
  f.reset();
  assert.equal(f.pending, 0);
});

test('flush records are recognised by key and empty value only', () => {
  assert.equal(isFlushRecord({ key: Buffer.from(FLUSH_KEY), value: null }), true);
  assert.equal(isFlushRecord({ key: Buffer.from(FLUSH_KEY), value: Buffer.from('x') }), false);
  assert.equal(isFlushRecord({ key: null, value: null }), false);
});
