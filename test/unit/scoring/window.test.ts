import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WindowSampler } from '../../../shared/scoring/window.js';

/** A sampler on a clock the test moves. */
function sampler(perSecond: number): { s: WindowSampler; advance(ms: number): void } {
  let t = 0;
  return { s: new WindowSampler(perSecond, () => t), advance: (ms) => void (t += ms) };
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('WindowSampler', () => {
  test('passes batches within the budget whole, in order', () => {
    const { s } = sampler(1000);
    assert.deepEqual(s.take(range(300)), range(300));
    assert.deepEqual(s.take(range(700, 300)), range(700, 300));
  });

  test('beyond the budget, an evenly spaced sample of the batch', () => {
    const { s } = sampler(1000);
    const kept = s.take(range(4000));
    assert.equal(kept.length, 1000);
    // Every fourth entry, from the middle of each run of four: spread over the whole batch.
    assert.deepEqual(kept.slice(0, 3), [2, 6, 10]);
    assert.equal(kept.at(-1), 3998);
  });

  test('refills at its rate, and holds at most one second of it', () => {
    const { s, advance } = sampler(1000);
    assert.equal(s.take(range(5000)).length, 1000);
    assert.equal(s.take(range(10)).length, 0);
    advance(250);
    assert.equal(s.take(range(5000)).length, 250);
    advance(60_000);
    assert.equal(s.take(range(5000)).length, 1000);
    // Over a long backlog the rate is the budget: 10 s of 2,000-record batches every 20 ms.
    let kept = 0;
    for (let i = 0; i < 500; i++) {
      advance(20);
      kept += s.take(range(2000)).length;
    }
    assert.equal(kept, 10_000);
  });

  test('0 means no limit; a negative or infinite rate is refused', () => {
    const { s } = sampler(0);
    assert.equal(s.take(range(100_000)).length, 100_000);
    assert.throws(() => new WindowSampler(-1), RangeError);
    assert.throws(() => new WindowSampler(Number.POSITIVE_INFINITY), RangeError);
  });
});
