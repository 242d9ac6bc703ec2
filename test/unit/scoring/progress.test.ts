import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionProgress } from '../../../shared/scoring/progress.js';

describe('PartitionProgress', () => {
  test('a partition with waiting records that does not advance is stalled after the timeout', () => {
    let now = 10_000;
    const p = new PartitionProgress(1000, () => now);
    p.fetched('in', 0, 9_000);
    p.fetched('in', 1, 9_500);
    now += 500;
    p.advanced('in', 1, null); // caught up
    assert.deepEqual(p.stalled(), []);
    now += 600;
    assert.deepEqual(p.stalled(), [{ topic: 'in', partition: 0, sinceMs: 1100, oldestAgeMs: 2100 }]);
    assert.deepEqual(
      p.oldestAges().sort((a, b) => a.partition - b.partition),
      [
        { topic: 'in', partition: 0, ageMs: 2100 },
        { topic: 'in', partition: 1, ageMs: 0 },
      ],
    );
  });

  test('progress resets the clock; a refetch of the same records does not', () => {
    let now = 0;
    const p = new PartitionProgress(1000, () => now);
    p.fetched('in', 0, 0);
    now = 900;
    p.advanced('in', 0, 800); // more waiting
    now = 1500;
    p.fetched('in', 0, 800); // the retried batch
    assert.deepEqual(p.stalled(), []);
    now = 1900;
    assert.equal(p.stalled().length, 1);
  });

  test('an idle partition is never stalled; revoked partitions are forgotten', () => {
    let now = 0;
    const p = new PartitionProgress(1000, () => now);
    p.fetched('in', 0, 0);
    p.fetched('in', 1, 0);
    p.advanced('in', 1, null);
    now = 5000;
    p.assigned({ in: [1] });
    assert.deepEqual(p.stalled(), []);
    assert.deepEqual(p.oldestAges(), [{ topic: 'in', partition: 1, ageMs: 0 }]);
  });
});
