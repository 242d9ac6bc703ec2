import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommittedFilter } from '../../../shared/kafka/read-committed.js';
import { ABORT, COMMIT, rec } from '../../helpers/committed-records.js';

test('interleaved transactions of several producers: committed released, aborted dropped', () => {
  const f = new CommittedFilter<ReturnType<typeof rec>>();
  const log = [
    rec(0, 'A'),
    rec(1, 'B'),
    rec(2, null),
    rec(3, 'A'),
    rec(4, 'C'),
    rec(5, 'B', ABORT),
    rec(6, 'A', COMMIT),
    rec(7, 'C'),
    rec(8, 'B'),
    rec(9, 'C', ABORT),
    rec(10, 'B', COMMIT),
  ];
  const out = log.flatMap((r) => f.push(0, r)).map((r) => r.id);
  assert.deepEqual(out, ['plain@2', 'A@0', 'A@3', 'B@8']);
  assert.equal(f.pending, 0);
});

test('partitions are independent and open transactions stay pending', () => {
  const f = new CommittedFilter<ReturnType<typeof rec>>();
  f.push(0, rec(0, 'A'));
  f.push(1, rec(0, 'A'));
  assert.deepEqual(
    f.push(1, rec(1, 'A', COMMIT)).map((r) => r.id),
    ['A@0'],
  );
  assert.equal(f.pending, 1);
});
