import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../../lab/eval/rng.js';

describe('Rng reproduces numpy legacy RandomState draws', () => {
  // Expected values printed by numpy 2.4 (`np.random.seed(s)` / `np.random.RandomState(s)`).
  test('random_sample and uniform', () => {
    const r = new Rng(42);
    assert.equal(r.next(), 0.3745401188473625);
    assert.equal(r.uniform(6, 30), 28.817143353837988);
    assert.equal(new Rng(123).next(), 0.6964691855978616);
  });

  test('permutation', () => {
    assert.deepEqual([...new Rng(42).permutation(10)], [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
    // scikit-learn's documented train_test_split example (random_state=42, 5 rows): test = [1, 4].
    assert.deepEqual([...new Rng(42).permutation(5)], [1, 4, 2, 0, 3]);
    assert.deepEqual(
      [...new Rng(7).permutation(20)],
      [1, 17, 2, 5, 11, 0, 18, 6, 13, 19, 10, 14, 8, 16, 9, 12, 7, 3, 4, 15],
    );
    assert.deepEqual([...new Rng(2 ** 32 - 1).permutation(12)], [11, 8, 5, 9, 1, 10, 6, 0, 4, 7, 2, 3]);
    // Long enough to cross MT19937's 624-word regeneration several times.
    const p = new Rng(42).permutation(5000);
    assert.deepEqual([...p.subarray(0, 5)], [1501, 2586, 2653, 1055, 705]);
    assert.deepEqual([...p.subarray(4995)], [4426, 466, 3092, 3772, 860]);
  });

  test('choice without replacement and uniform, in the injection order of the report', () => {
    const r = new Rng(42);
    assert.deepEqual(r.choice(100, 5), [83, 53, 70, 45, 44]);
    assert.deepEqual(r.choice(9, 2), [3, 1]);
    assert.equal(r.uniform(6, 30), 14.603177485062542);
    assert.deepEqual(r.choice(7, 3), [2, 4, 1]);
    const q = new Rng(42);
    assert.deepEqual(q.choice(1000, 6), [521, 737, 740, 660, 411, 678]);
    assert.deepEqual(q.choice(9, 2), [6, 5]);
    assert.deepEqual(q.choice(9, 2), [3, 7]);
    assert.equal(q.uniform(10, 300), 256.71096340477186);
  });

  test('refuses seeds numpy refuses', () => {
    assert.throws(() => new Rng(-1), RangeError);
    assert.throws(() => new Rng(2 ** 32), RangeError);
    assert.throws(() => new Rng(1.5), RangeError);
  });
});

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
