import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { take, trainTestSplit } from '../../../../lab/eval/split.js';

describe('trainTestSplit', () => {
  test('sizes follow scikit-learn: ceil(0.3·n) test rows, the rest train', () => {
    for (const [n, nTest] of [
      [58_000, 17_400],
      [36_733, 11_020],
      [3_772, 1_132],
      [10, 3],
      [11, 4],
    ] as const) {
      const s = trainTestSplit(n, 0.3, 42);
      assert.equal(s.test.length, nTest, `n=${n}`);
      assert.equal(s.train.length, n - nTest, `n=${n}`);
    }
  });

  test('train and test partition the rows', () => {
    const s = trainTestSplit(1000, 0.3, 42);
    const all = [...s.train, ...s.test].sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  test('the same seed gives the same split; another seed another', () => {
    const a = trainTestSplit(500, 0.3, 42);
    const b = trainTestSplit(500, 0.3, 42);
    const c = trainTestSplit(500, 0.3, 7);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.test, c.test);
  });

  test('the split is shuffled, not a head/tail cut', () => {
    const s = trainTestSplit(1000, 0.3, 42);
    const maxTest = Math.max(...s.test);
    const minTest = Math.min(...s.test);
    assert.ok(maxTest > 900 && minTest < 100);
  });

  test('take picks in index order', () => {
    assert.deepEqual(take(['a', 'b', 'c', 'd'], [3, 0, 2]), ['d', 'a', 'c']);
  });

  test('refuses sizes that leave a part empty', () => {
    assert.throws(() => trainTestSplit(1, 0.3, 42), RangeError);
    assert.throws(() => trainTestSplit(100, 1.2, 42), RangeError);
  });
});
