import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../shared/eval/rng.js';

describe('Rng', () => {
  test('the same seed gives the same stream, another seed another', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    const sb = Array.from({ length: 20 }, () => b.nextUint32());
    const sc = Array.from({ length: 20 }, () => c.nextUint32());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
  });

  test('next() is in [0, 1) and roughly uniform', () => {
    const r = new Rng(7);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const v = r.next();
      assert.ok(v >= 0 && v < 1);
      bins[Math.floor(v * 10)]!++;
    }
    for (const b of bins) assert.ok(b > 9_500 && b < 10_500, `bin count ${b}`);
  });

  test('uniform(low, high) stays in range', () => {
    const r = new Rng(1);
    for (let i = 0; i < 10_000; i++) {
      const v = r.uniform(6, 30);
      assert.ok(v >= 6 && v < 30);
    }
  });

  test('choice draws distinct values within range', () => {
    const r = new Rng(3);
    for (let t = 0; t < 200; t++) {
      const n = 1 + r.int(50);
      const k = r.int(n + 1);
      const c = r.choice(n, k);
      assert.equal(c.length, k);
      assert.equal(new Set(c).size, k);
      for (const v of c) assert.ok(Number.isInteger(v) && v >= 0 && v < n);
    }
    assert.throws(() => r.choice(3, 4), RangeError);
  });

  test('permutation holds every index once', () => {
    const p = new Rng(5).permutation(1000);
    assert.deepEqual(
      [...p].sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });
});
