import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cholesky,
  fitRobustGaussian,
  mad,
  mahalanobisInto,
  median,
  precisionFromWhitener,
  robustScale,
  whitener,
} from '../../../shared/model/robust.js';
import { createRng } from '../../../shared/random.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

/** Standard normal draws (Box–Muller) from the project's seeded generator. */
function normals(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  }
  return out;
}

describe('median and MAD', () => {
  test('closed-form cases: odd, even, one wild value', () => {
    close(median([3, 1, 2]), 2);
    close(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
    // |x − 3| = 2 1 0 1 997 → median 1, whatever the outlier's size.
    close(mad([1, 2, 3, 4, 1000]), 1);
    close(median([1, 2, 3, 4, 1e12]), 3);
  });

  test('1.4826·MAD estimates the standard deviation of normal data (within 3 %)', () => {
    const x = normals(20_000, 7).map((v) => 5 + 2 * v);
    const s = robustScale(x, x.length, 1);
    close(s.center[0]!, 5, 0.05);
    close(s.spread[0]!, 2, 0.06);
  });

  test('a constant column falls back to its standard deviation, then to the floor', () => {
    const x = Float64Array.from([1, 0, 1, 0, 1, 0, 1, 1]); // column 0 of 4 rows × 2
    const s = robustScale(x, 4, 2, 1e-6);
    close(s.spread[1]!, 0.4330127018922193, 1e-12); // column 1 = 0 0 0 1: MAD 0 → population std √3/4
    close(s.spread[0]!, 1e-6); // constant 1
  });
});

describe('Cholesky factor and whitener', () => {
  const a = [4, 2, 0.4, 2, 5, 1, 0.4, 1, 3];

  test('L·Lᵀ reproduces the matrix', () => {
    const l = cholesky(a, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += l[i * 3 + k]! * l[j * 3 + k]!;
        close(s, a[i * 3 + j]!, 1e-12);
      }
    }
  });

  test('W·Wᵀ is the inverse, so ‖r·W‖² is rᵀΣ⁻¹r', () => {
    const w = whitener(a, 3);
    const p = precisionFromWhitener(w, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * p[k * 3 + j]!;
        close(s, i === j ? 1 : 0, 1e-12);
      }
    }
    // Diagonal covariance: distance² = Σ r²/σ².
    const out = new Float64Array(1);
    mahalanobisInto([3, 4], 1, 2, [1, 0], whitener([4, 0, 0, 16], 2), out);
    close(out[0]!, (2 * 2) / 4 + (4 * 4) / 16, 1e-12);
  });

  test('refuses a matrix that is not positive definite', () => {
    assert.throws(() => cholesky([1, 2, 2, 1], 2), RangeError);
  });
});

describe('robust covariance', () => {
  test('recovers a correlated Gaussian despite 10 % gross outliers (plain covariance does not)', () => {
    const n = 4000;
    const z1 = normals(n, 1);
    const z2 = normals(n, 2);
    const rho = 0.8;
    const x = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      x[2 * i] = z1[i]!;
      x[2 * i + 1] = rho * z1[i]! + Math.sqrt(1 - rho * rho) * z2[i]!;
      if (i % 10 === 0) {
        x[2 * i] = 8 + z1[i]!;
        x[2 * i + 1] = -8 + z2[i]!;
      }
    }
    const g = fitRobustGaussian(x, n, 2, { support: 0.75 });
    close(g.mean[0]!, 0, 0.1);
    close(g.mean[1]!, 0, 0.1);
    // The central 75 % of a bivariate normal is a truncated ellipse: its covariance is the true one scaled
    // by a constant (≈ 0.55 for d = 2), so the correlation is what is recovered exactly.
    const corr = g.covariance[1]! / Math.sqrt(g.covariance[0]! * g.covariance[3]!);
    close(corr, rho, 0.05);
    // The outliers are far away in the fitted metric.
    const d2 = new Float64Array(n);
    mahalanobisInto(x, n, 2, g.mean, whitener(g.covariance, 2), d2);
    const outlierMin = Math.min(...Array.from(d2).filter((_, i) => i % 10 === 0));
    const inlierMedian = median(Array.from(d2).filter((_, i) => i % 10 !== 0));
    assert.ok(outlierMin > 20 * inlierMedian, `${outlierMin} vs ${inlierMedian}`);
  });

  test('a constant column stays invertible thanks to the ridge', () => {
    const x = Float64Array.from({ length: 200 }, (_, k) => (k % 2 === 0 ? k : 1));
    const g = fitRobustGaussian(x, 100, 2);
    assert.ok(g.ridge > 0);
    assert.doesNotThrow(() => whitener(g.covariance, 2));
  });
});
