import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { featuresPerRow, injectAnomalies } from '../../../shared/anomalies/inject.js';
import { SeededRandom as Rng } from '../../../shared/random.js';

/** A matrix of distinct positive values, so every change is visible. */
function matrix(rows: number, width: number): Float32Array {
  const m = new Float32Array(rows * width);
  for (let i = 0; i < m.length; i++) m[i] = 1 + (i % 97) / 10;
  return m;
}

function changedColumns(before: Float32Array, after: Float32Array, width: number, r: number): number[] {
  const cols: number[] = [];
  for (let c = 0; c < width; c++) if (before[r * width + c] !== after[r * width + c]) cols.push(c);
  return cols;
}

describe('injectAnomalies', () => {
  for (const rows of [1000, 1001, 17_400, 7]) {
    test(`variant A alters exactly floor(15 %) of ${rows} rows, in exactly 2 features`, () => {
      const width = 9;
      const x = matrix(rows, width);
      const res = injectAnomalies(x, rows, width, {
        variant: 'A',
        numericColumns: [0, 1, 2, 3, 4, 5, 6, 7, 8],
        rng: new Rng(42),
      });
      const expected = Math.floor(rows * 0.15);
      assert.equal(
        res.labels.reduce((s, v) => s + v, 0),
        expected,
      );
      let changedRows = 0;
      for (let r = 0; r < rows; r++) {
        const cols = changedColumns(x, res.matrix, width, r);
        if (res.labels[r]) {
          assert.equal(cols.length, 2, `row ${r}`);
          changedRows++;
        } else assert.equal(cols.length, 0, `row ${r}`);
      }
      assert.equal(changedRows, expected);
      assert.equal(res.injected.length, expected);
    });
  }

  test('variant A multiplies by one factor in [6, 30) per row', () => {
    const rows = 2000;
    const width = 5;
    const x = matrix(rows, width);
    const res = injectAnomalies(x, rows, width, {
      variant: 'A',
      numericColumns: [0, 1, 2, 3, 4],
      rng: new Rng(1),
    });
    for (const inj of res.injected) {
      assert.ok(inj.factor >= 6 && inj.factor < 30);
      assert.equal(inj.offset, 0);
      for (const c of inj.columns) {
        const ratio = res.matrix[inj.row * width + c]! / x[inj.row * width + c]!;
        assert.ok(Math.abs(ratio - inj.factor) < 1e-4 * inj.factor, `ratio ${ratio} vs ${inj.factor}`);
      }
    }
    // The factors spread over the range rather than sticking to one value.
    const factors = res.injected.map((i) => i.factor);
    assert.ok(Math.min(...factors) < 8 && Math.max(...factors) > 28);
  });

  for (const m of [1, 2, 3, 9, 11, 36]) {
    test(`variant B alters max(1, floor(${m}/2)) features, ×U(6,30) then +U(10,300)`, () => {
      const rows = 400;
      const width = m + 2; // two non-numeric (one-hot) columns that must never change
      const numeric = Array.from({ length: m }, (_, k) => k + 2);
      const x = matrix(rows, width);
      const res = injectAnomalies(x, rows, width, { variant: 'B', numericColumns: numeric, rng: new Rng(9) });
      assert.equal(
        res.labels.reduce((s, v) => s + v, 0),
        60,
      );
      const k = Math.max(1, Math.floor(m / 2));
      assert.equal(featuresPerRow('B', m), k);
      for (let r = 0; r < rows; r++) {
        const cols = changedColumns(x, res.matrix, width, r);
        assert.equal(cols.length, res.labels[r] ? k : 0);
        for (const c of cols) assert.ok(c >= 2, 'a non-numeric column was altered');
      }
      for (const inj of res.injected) {
        assert.ok(inj.factor >= 6 && inj.factor < 30);
        assert.ok(inj.offset >= 10 && inj.offset < 300);
        for (const c of inj.columns) {
          const expected = x[inj.row * width + c]! * inj.factor + inj.offset;
          assert.ok(Math.abs(res.matrix[inj.row * width + c]! - expected) < 1e-3 * expected);
        }
      }
    });
  }

  test('variant A with a single numeric feature alters that one', () => {
    const x = matrix(100, 3);
    const res = injectAnomalies(x, 100, 3, { variant: 'A', numericColumns: [1], rng: new Rng(2) });
    for (const inj of res.injected) assert.deepEqual(inj.columns, [1]);
  });

  test('is deterministic for a seed, leaves the input untouched', () => {
    const x = matrix(300, 4);
    const copy = x.slice();
    const a = injectAnomalies(x, 300, 4, { variant: 'A', numericColumns: [0, 1, 2, 3], rng: new Rng(42) });
    const b = injectAnomalies(x, 300, 4, { variant: 'A', numericColumns: [0, 1, 2, 3], rng: new Rng(42) });
    assert.deepEqual(a.matrix, b.matrix);
    assert.deepEqual(x, copy);
  });

  test('refuses a matrix of the wrong size and an empty numeric set', () => {
    assert.throws(() =>
      injectAnomalies(new Float32Array(10), 3, 4, { variant: 'A', numericColumns: [0], rng: new Rng(1) }),
    );
    assert.throws(() =>
      injectAnomalies(new Float32Array(12), 3, 4, { variant: 'A', numericColumns: [], rng: new Rng(1) }),
    );
  });
});
