/**
 * Calibration scores as every policy needs them: all finite, enough of them, sorted ascending in a copy.
 */
import { ModelError } from '../errors.js';

/** A sorted float64 copy; `CALIBRATION_FAILED` for fewer than `min` scores or any non-finite one. */
export function sortedCalibration(scores: ArrayLike<number>, min: number, why: string): Float64Array {
  if (scores.length < min) {
    throw new ModelError(
      'CALIBRATION_FAILED',
      `${why}: needs at least ${min} calibration scores, got ${scores.length}; ` +
        'calibrate on more rows or choose a larger target false-positive rate',
      { details: { rows: scores.length, min } },
    );
  }
  const sorted = Float64Array.from(scores as ArrayLike<number>);
  for (let i = 0; i < sorted.length; i++) {
    if (!Number.isFinite(sorted[i]!)) {
      throw new ModelError(
        'CALIBRATION_FAILED',
        `calibration score ${i} is ${sorted[i]}: every calibration score must be finite`,
        { details: { index: i } },
      );
    }
  }
  return sorted.sort();
}

/** How many of the ascending `sorted` are ≥ `x` (binary search). */
export function countAtLeast(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

/**
 * The scale the contamination rules measure in: (80th percentile − median) × ln 5 / ln 2.5, which on an
 * exponential is its (90th percentile − median). Read at the 80th percentile, it stays within the normal
 * rows' own upper half while anomalies are under about a fifth of the rows (with a share π of them above
 * it, the 80th percentile is the normal rows' 1 − (0.2 − π)/(1 − π) quantile: their 89th at π = 10 %);
 * the 90th percentile, read before, became the normal rows' 99.6th at π = 10 % (annthyroid's calibration
 * rows hold 9.6 %), and the fence moved out with it.
 */
export const SCALE_QUANTILE = 0.8;
const SCALE_FACTOR = Math.log(5) / Math.log(1 / (2 * (1 - SCALE_QUANTILE)));

/** How far above the median, in units of the scale (`SCALE_QUANTILE`), a calibration score is set aside. */
export const CONTAMINATION_FENCE = 8;

/**
 * The cluster rule's settings: the upper tail's histogram has `binsPerDecade` bins per factor of 10 in
 * units of the scale (`SCALE_QUANTILE`) above the median, from 1 (an exponential's 90th percentile) up to the fence; a
 * bin starts a cluster when it holds at least `minRows` and `minShare` of the scores and more than the bin
 * below it plus `z` Poisson standard deviations (z · √(count below + 1)).
 */
export const CLUSTER_RULE = Object.freeze({ binsPerDecade: 4, z: 3, minRows: 5, minShare: 0.005 });

export interface ContaminationOptions {
  /** The fence's width (default `CONTAMINATION_FENCE`; other widths are for studies, `lab/fence-study.ts`). */
  fence?: number;
  /** Also set aside from the first cluster in the upper tail on (default true). */
  clusters?: boolean;
}

/**
 * Used by the conformal policy (not by spot, which models the tail as it is: a legitimately heavy tail would
 * be cut). Calibration rows are held out of unlabelled data, which may hold anomalies. They sit in exactly
 * the tail a target false-positive rate is read from: with a 1 % target and a few percent of anomalies the
 * threshold lands among the anomalies' scores and flags almost nothing (0.1 % on the labelled sets). So
 * before a target-rate policy is fitted, likely anomalies are set aside, by two rules:
 *
 * - **The fence:** scores beyond median + 8 × the scale (`SCALE_QUANTILE`). The scale is the upper half of the
 *   bulk, which anomalies under about a fifth of the rows barely move and which a wide or two-humped lower
 *   half does not inflate; 8 of it lies beyond the 99.99th percentile of an exponential and about the
 *   99.85th of a log-normal with σ = 1, so a clean sample loses next to nothing.
 * - **The first cluster:** anomalies that sit closer than the fence but together, as a hump of their own
 *   (shuttle's, at 4–12 of that scale while its normal 99th percentile is at 1.5). Above its 90th
 *   percentile the density of a unimodal score distribution falls, and so do its counts per bin of equal
 *   width in log scale (for any density that falls faster than 1/x); a bin that holds clearly more than the bin below it
 *   (`CLUSTER_RULE`) is a second population, and scores from that bin on are set aside. A normal tail,
 *   however long, never rises, so it stays (`npm run bench:quality`, docs/RESULTS.md).
 *
 * Anomalies mixed into the normal tail stay (nothing can tell them apart): the threshold is then a little
 * high, never among well-separated anomalies.
 */
export function withoutContamination(scores: ArrayLike<number>, opts: ContaminationOptions = {}): number[] {
  const values = Array.from(scores as ArrayLike<number>);
  if (values.length < 8 || values.some((v) => !Number.isFinite(v))) return values;
  const sorted = Float64Array.from(values).sort();
  const q = (p: number): number => {
    const i = (sorted.length - 1) * p;
    const lo = Math.floor(i);
    return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (i - lo);
  };
  const median = q(0.5);
  const scale = (q(SCALE_QUANTILE) - median) * SCALE_FACTOR;
  if (!(scale > 0)) return values;
  const fence = opts.fence ?? CONTAMINATION_FENCE;
  const cluster =
    opts.clusters === false ? Number.POSITIVE_INFINITY : clusterStart(sorted, median, scale, fence);
  const limit = median + Math.min(fence, cluster) * scale;
  return values.filter((v) => (cluster <= fence ? v < limit : v <= limit));
}

/**
 * Where the first cluster in the upper tail of the ascending `sorted` starts, in units of `scale` above
 * `median` (a bin's lower edge, see `CLUSTER_RULE`), looking below `fence`; +∞ when there is none.
 */
export function clusterStart(sorted: Float64Array, median: number, scale: number, fence: number): number {
  const { binsPerDecade, z, minRows, minShare } = CLUSTER_RULE;
  const least = Math.max(minRows, minShare * sorted.length);
  let below = -1;
  for (let i = 0; 10 ** (i / binsPerDecade) < fence; i++) {
    const lo = 10 ** (i / binsPerDecade);
    const hi = 10 ** ((i + 1) / binsPerDecade);
    const count = countAtLeast(sorted, median + lo * scale) - countAtLeast(sorted, median + hi * scale);
    if (below >= 0 && count >= least && count > below + z * Math.sqrt(below + 1)) return lo;
    below = count;
  }
  return Number.POSITIVE_INFINITY;
}
