import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fitTails,
  MIN_TAIL_SCALE,
  tailKnots,
  TailTable,
  type TailStats,
} from '../../../shared/model/tail.js';
import { EnsembleScorer, fitMemberScoring } from '../../../shared/model/ensemble.js';
import type { SparseAutoencoder } from '../../../shared/model/autoencoder.js';
import { createRng } from '../../../shared/random.js';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);

describe('tailKnots', () => {
  test('−log p from 0 in steps of ln2 / 2, then log((n + 1) / 2) for the largest of n values', () => {
    const k = tailKnots(99);
    assert.equal(k[0], 0);
    assert.equal(k.at(-1), Math.log(50));
    for (let i = 1; i < k.length - 1; i++) close(k[i]! - k[i - 1]!, Math.LN2 / 2, 1e-12, `step ${i}`);
    assert.ok(k.at(-2)! < Math.log(50));
    assert.equal(k.length, 13); // 12 · ln2/2 = 4.16 > log 50 = 3.91 > 11 · ln2/2
  });
});

const tailRarity = (t: TailStats, j: number, v: number) => new TailTable(t).rarity(j, v);

describe('TailTable.rarity', () => {
  // One column holding 1, 2, …, 99.
  const n = 99;
  const t = fitTails(
    Float64Array.from({ length: n }, (_, i) => i + 1),
    n,
    1,
  );

  test('is −log((1 + values at or above v) / (n + 1)) at the knots: 0 at the smallest, log((n + 1) / 2) at the largest', () => {
    assert.equal(tailRarity(t, 0, 0.5), 0);
    assert.equal(tailRarity(t, 0, 1), 0);
    close(tailRarity(t, 0, 99), Math.log(50), 1e-12, 'largest');
    // p = 1/2: 49 values at or above 51, (49 + 1) / 100.
    close(tailRarity(t, 0, 51), Math.LN2, 1e-12, 'median knot');
    // p = 1/4: 24 values at or above 76.
    close(tailRarity(t, 0, 76), 2 * Math.LN2, 1e-12, 'quartile knot');
  });

  test('is nondecreasing, and within one knot step of the empirical value at every data point', () => {
    let last = -1;
    for (let v = 1; v <= n; v++) {
      const r = tailRarity(t, 0, v);
      assert.ok(r >= last, `rarity falls at ${v}`);
      last = r;
      close(r, -Math.log((n - v + 2) / (n + 1)), Math.LN2 / 2 + 1e-12, `v = ${v}`);
    }
  });

  test('beyond the largest grows by the excess over the mean excess of the top tenth (an exponential tail)', () => {
    // Top tenth over the 90th percentile (89): 1, 2, …, 10 → τ = 5.5.
    close(t.tau[0]!, 5.5, 1e-12, 'τ');
    close(tailRarity(t, 0, 99 + 11), Math.log(50) + 2, 1e-12, 'two scales beyond');
  });

  test('recovers −log P(|z| ≥ v) = v on exponential samples', () => {
    const rng = createRng(7, 1);
    const m = 100_000;
    const x = Float64Array.from({ length: m }, () => -Math.log(1 - rng.next()));
    const e = fitTails(x, m, 1);
    // Sampling error of −log p at p = e^−5 with 100,000 values: about 0.04.
    for (const v of [0.5, 1, 2, 3, 5]) close(tailRarity(e, 0, v), v, 0.1, `v = ${v}`);
  });

  test('a column on one value: 0 at it, log((n + 1) / 2) plus the excess over the smallest tail scale beyond it', () => {
    const z = fitTails(new Float64Array(50), 50, 1);
    assert.equal(tailRarity(z, 0, 0), 0);
    assert.equal(z.tau[0], MIN_TAIL_SCALE);
    close(tailRarity(z, 0, 0.02), Math.log(51 / 2) + 2, 1e-9, 'just beyond');
  });
});

describe('the robust-tail score', () => {
  // Residuals of 2,000 calibration rows × 4 features: features 1–3 standard normal; feature 0 within
  // ±0.01 of zero on 85 % of the rows and ±5 on the rest (a pixel that is 0 on most images), so its
  // MAD-based spread collapses to about 0.01.
  const rows = 2_000;
  const d = 4;
  const rng = createRng(3, 1);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const r = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) {
    r[i * d] = rng.next() < 0.15 ? (rng.next() < 0.5 ? -5 : 5) : 0.01 * gauss();
    for (let j = 1; j < d; j++) r[i * d + j] = gauss();
  }
  const z2 = fitMemberScoring(r, rows, d, [], 'robust-residual');
  const both = fitMemberScoring(r, rows, d, [], 'robust-tail');
  // Score rows through a network stand-in that reconstructs nothing (x̂ = 0): the residual is the input.
  const zero = {
    inputDim: d,
    reconstructRows: (_x: Float32Array, n: number) => new Float32Array(n * d),
  } as unknown as SparseAutoencoder;
  const score = (m: typeof z2, x: number[][]) => {
    const scorer = new EnsembleScorer([zero], {
      kind: m.tail ? 'robust-tail' : 'robust-residual',
      members: [m],
      calibrationRows: rows,
      reference: 'calibration',
    });
    return Array.from(scorer.score(Float32Array.from(x.flat()), x.length).score);
  };
  // Row A: the sparse feature at its usual stray, the rest ordinary. Row B: three features at 3σ.
  const a = [5, 0.5, -0.5, 0.3];
  const b = [0, 3, -3, 3];

  test('z² alone lets the sparse feature’s ordinary stray outscore a row off on every other feature', () => {
    assert.equal(z2.tail, undefined);
    const [sa, sb] = score(z2, [a, b]);
    assert.ok(sa! > sb!, `${sa} ≤ ${sb}`);
  });

  test('with the tail rarity the row off on three features scores higher', () => {
    assert.ok(both.tail);
    assert.deepEqual(both.center, z2.center);
    assert.equal(both.scoreScale, z2.scoreScale);
    const [sa, sb] = score(both, [a, b]);
    assert.ok(sb! > sa!, `${sb} ≤ ${sa}`);
  });

  test('the calibration rows’ median score is near 0 (each half is centred on its median)', () => {
    const cal = Array.from({ length: rows }, (_, i) => Array.from(r.subarray(i * d, (i + 1) * d)));
    const s = score(both, cal).sort((x, y) => x - y);
    close(s[rows / 2]!, 0, 0.1, 'median');
  });
});
