import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deadUnits, EarlyStopping, trimKeepCount, trimmedMean } from '../../../shared/model/stability.js';

describe('dead unit detection', () => {
  test('units whose largest activation is not positive are dead', () => {
    assert.deepEqual(deadUnits([0.3, 0, -0, 1e-9, Number.NaN]), [1, 2, 4]);
    assert.deepEqual(deadUnits(Float32Array.from([1, 2])), []);
  });
});

describe('trimmed loss', () => {
  test('keeps the ceil((1 − f)·n) smallest, at least one row', () => {
    assert.equal(trimKeepCount(32, 0), 32);
    assert.equal(trimKeepCount(32, 0.1), 29); // ceil(28.8)
    assert.equal(trimKeepCount(10, 0.05), 10); // ceil(9.5)
    assert.equal(trimKeepCount(1, 0.5), 1);
    assert.throws(() => trimKeepCount(10, 1), RangeError);
    assert.throws(() => trimKeepCount(10, -0.1), RangeError);
  });

  test('the trimmed mean ignores the highest losses', () => {
    const losses = [1, 2, 3, 4, 100];
    assert.equal(trimmedMean(losses, 0), 22);
    assert.equal(trimmedMean(losses, 0.2), 2.5); // keeps 4 of 5: 1 2 3 4
    assert.equal(trimmedMean(losses, 0.5), 2); // keeps ceil(2.5) = 3
  });
});

describe('early stopping', () => {
  test('stops after `patience` epochs without a relative improvement, remembering the best epoch', () => {
    const s = new EarlyStopping(2, 0.01);
    assert.deepEqual(s.update(1, 1.0), { improved: true, stop: false });
    assert.deepEqual(s.update(2, 0.5), { improved: true, stop: false });
    assert.deepEqual(s.update(3, 0.499), { improved: false, stop: false }); // < 1 % better
    assert.deepEqual(s.update(4, 0.6), { improved: false, stop: true });
    assert.equal(s.bestEpoch, 2);
    assert.equal(s.best, 0.5);
  });

  test('a non-finite loss never counts as an improvement', () => {
    const s = new EarlyStopping(1);
    assert.deepEqual(s.update(1, Number.NaN), { improved: false, stop: true });
    assert.throws(() => new EarlyStopping(0), RangeError);
  });
});
