import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePrecision } from '../../../../lab/eval/ranking.js';

describe('average precision', () => {
  test("matches scikit-learn's average_precision_score on hand-computed cases", () => {
    // sklearn: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333…
    assert.ok(Math.abs(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) - 5 / 6) < 1e-12);
    assert.equal(averagePrecision([1, 1, 0, 0], [4, 3, 2, 1]), 1);
    // All tied: one threshold, precision = prevalence.
    assert.equal(averagePrecision([1, 0, 0, 0], [1, 1, 1, 1]), 0.25);
    assert.ok(Number.isNaN(averagePrecision([0, 0], [1, 2])));
  });
});
