/**
 * How rare a residual is on its own feature: −log of its tail probability among the calibration rows.
 *
 * The robust score's z² (`ensemble.ts`) measures a residual in units of its feature's spread, which is right
 * for a feature whose residuals are roughly bell-shaped and wrong for one whose residuals sit on one value
 * on most rows and stray far on a few (a pixel that is 0 on most images): its spread collapses and any
 * ordinary stray decides the row's score. The tail rarity of a residual asks instead how often a residual
 * at least that far off occurs on calibration rows, −log P(|z| ≥ v), so a stray that one calibration row
 * in ten shows costs log 10 ≈ 2.3 whatever its size, and a residual beyond every calibration row's grows
 * linearly in its excess (an exponential tail).
 *
 * Per feature, the empirical distribution of |z| is kept compactly. With p(v) = (1 + #{calibration
 * |z| ≥ v}) / (n + 1), its values at p = 2^(−k/2) (k = 0, 1, …, while above 2/(n+1)) and at 2/(n+1) (the
 * largest), with −log p interpolated linearly in |z| between them; beyond the largest, −log p grows by
 * (v − largest) / τ, τ the mean excess of the feature's top tenth over its 90th percentile (at least
 * `MIN_TAIL_SCALE`).
 */

import { SmaeError } from '../errors.js';

/** The tail rarity of each feature of one member, fitted on calibration rows' |z|. */
export interface TailStats {
  /** −log p at each knot, ascending from 0 (the same for every feature: it depends on n only). */
  nlp: number[];
  /** Per feature, |z| at each knot (nondecreasing). */
  at: number[][];
  /** Per feature, the exponential tail's scale beyond the last knot. */
  tau: number[];
}

/** The smallest tail scale, in spreads: a column that never varied on the calibration rows. */
export const MIN_TAIL_SCALE = 0.01;

/** −log p of the knots for n calibration rows: tail probabilities 2^(−k/2) above 2/(n+1), then 2/(n+1). */
export function tailKnots(n: number): number[] {
  const last = Math.log((n + 1) / 2);
  const out: number[] = [];
  for (let k = 0; (k / 2) * Math.LN2 < last - 1e-9; k++) out.push((k / 2) * Math.LN2);
  out.push(last);
  return out;
}

/**
 * Fits the tail statistics of `rows × d` row-major |z| values (every value ≥ 0). Knot values are read from
 * each column's sorted values at the position where (count at or above) / (n + 1) is the knot's
 * probability, interpolated between neighbours.
 */
export function fitTails(absZ: Float64Array, rows: number, d: number): TailStats {
  if (rows < 2) throw new RangeError(`tail statistics need at least 2 rows, got ${rows}`);
  const nlp = tailKnots(rows);
  const at: number[][] = [];
  const tau: number[] = [];
  const col = new Float64Array(rows);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < rows; i++) col[i] = absZ[i * d + j]!;
    col.sort();
    at.push(
      nlp.map((l) => {
        // p = (m + 1) / (n + 1) with m values at or above: the value at ascending position n − m.
        const pos = Math.min(rows - 1, Math.max(0, rows - (Math.exp(-l) * (rows + 1) - 1)));
        const lo = Math.floor(pos);
        const hi = Math.min(rows - 1, lo + 1);
        return col[lo]! + (col[hi]! - col[lo]!) * (pos - lo);
      }),
    );
    const i90 = Math.floor(0.9 * (rows - 1));
    let excess = 0;
    for (let i = i90 + 1; i < rows; i++) excess += col[i]! - col[i90]!;
    tau.push(Math.max(excess / Math.max(1, rows - 1 - i90), MIN_TAIL_SCALE));
  }
  return { nlp, at, tau };
}

/** Tail statistics laid out for scoring: every feature's knots in one typed array. */
export class TailTable {
  private readonly nlp: Float64Array;
  private readonly at: Float64Array;
  private readonly tau: Float64Array;
  private readonly k: number;

  constructor(t: TailStats) {
    this.k = t.nlp.length;
    this.nlp = Float64Array.from(t.nlp);
    this.at = new Float64Array(t.at.length * this.k);
    t.at.forEach((a, j) => {
      if (a.length !== this.k || t.tau.length !== t.at.length) {
        throw new SmaeError(
          'INCOMPATIBLE_MODEL',
          `tail statistics of feature ${j}: ${a.length} knots and ${t.tau.length} tail scales for ${this.k} knots and ${t.at.length} features`,
        );
      }
      this.at.set(a, j * this.k);
    });
    this.tau = Float64Array.from(t.tau);
  }

  /** −log P(|z| ≥ v) on feature j (v ≥ 0). */
  rarity(j: number, v: number): number {
    const at = this.at;
    const base = j * this.k;
    const last = this.k - 1;
    if (v <= at[base]!) return 0;
    if (v > at[base + last]!) return this.nlp[last]! + (v - at[base + last]!) / this.tau[j]!;
    // The first knot at or above v (v > the first, v ≤ the last), searched from the bulk up: most
    // residuals lie below the first few knots (a third faster than a binary search here).
    let lo = 1;
    while (at[base + lo]! < v) lo++;
    const a = at[base + lo - 1]!;
    const b = at[base + lo]!;
    return this.nlp[lo - 1]! + ((this.nlp[lo]! - this.nlp[lo - 1]!) * (v - a)) / (b - a);
  }
}
