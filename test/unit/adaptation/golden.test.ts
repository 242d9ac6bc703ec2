import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGoldenSet, goldenRecall, type MatrixScorer } from '../../../shared/adaptation/golden.js';

/** Flags a row when any value exceeds `limit` (what an anchor model roughly does with the report's injections). */
function maxScorer(width: number, limit: number): MatrixScorer {
  return {
    scoreMatrix(matrix, rows) {
      return Array.from({ length: rows }, (_, r) => {
        const score = Math.max(...matrix.subarray(r * width, (r + 1) * width));
        return { score, isAnomaly: score > limit };
      });
    },
  };
}

describe('golden set', () => {
  const width = 4;
  const rows = 50;
  const clean = Float32Array.from({ length: rows * width }, (_, i) => 1 + (i % 7) / 10); // values in [1, 1.6]

  test('injects the report variants into clean rows and keeps what the anchor flags', () => {
    const g = buildGoldenSet(maxScorer(width, 2), clean, rows, width, {
      size: 40,
      variants: ['A', 'B'],
      seed: 3,
      numericColumns: [0, 1, 2, 3],
    });
    assert.equal(g.injected, 40);
    // × U(6, 30) on values ≥ 1 always exceeds 2: every injected row is kept.
    assert.equal(g.rows, 40);
    assert.equal(g.anchorRecall, 1);
    assert.equal(g.matrix.length, 40 * width);
    assert.equal(goldenRecall(maxScorer(width, 2), g), 1);
    // A model that stopped seeing large values loses the golden set.
    assert.equal(goldenRecall(maxScorer(width, 1e6), g), 0);
  });

  test('is deterministic for a seed', () => {
    const o = { size: 10, variants: ['A'] as ('A' | 'B')[], seed: 9, numericColumns: [0, 1, 2, 3] };
    const a = buildGoldenSet(maxScorer(width, 2), clean, rows, width, o);
    const b = buildGoldenSet(maxScorer(width, 2), clean, rows, width, o);
    assert.deepEqual(a.matrix, b.matrix);
  });

  test('only numeric columns are altered', () => {
    const g = buildGoldenSet(maxScorer(width, 2), clean, rows, width, {
      size: 20,
      variants: ['B'],
      seed: 1,
      numericColumns: [0],
    });
    for (let r = 0; r < g.rows; r++) {
      for (let j = 1; j < width; j++) assert.ok(g.matrix[r * width + j]! <= 1.6 + 1e-6);
      assert.ok(g.matrix[r * width]! > 2);
    }
  });

  test('keeps only rows the anchor flags', () => {
    const g = buildGoldenSet(maxScorer(width, 25), clean, rows, width, {
      size: 100,
      variants: ['A'],
      seed: 5,
      numericColumns: [0, 1, 2, 3],
    });
    assert.ok(g.rows > 0 && g.rows < 100);
    assert.equal(g.anchorRecall, g.rows / 100);
    assert.equal(goldenRecall(maxScorer(width, 25), g), 1);
  });

  test('an empty golden set has nothing to lose', () => {
    const g = buildGoldenSet(maxScorer(width, 2), new Float32Array(0), 0, width, {
      size: 10,
      variants: ['A'],
      seed: 1,
      numericColumns: [0],
    });
    assert.equal(g.rows, 0);
    assert.equal(goldenRecall(maxScorer(width, 2), g), 1);
  });
});
