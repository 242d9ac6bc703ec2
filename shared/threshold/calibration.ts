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

/** How far above the median, in units of (90th percentile − median), a calibration score is set aside. */
export const CONTAMINATION_FENCE = 8;

/**
 * Used by the conformal policy (not by spot, which models the tail as it is: a legitimately heavy tail would
 * be cut). Calibration rows are held out of unlabelled data, which may hold anomalies. They sit in exactly
 * the tail a target false-positive rate is read from: with a 1 % target and a few percent of anomalies the
 * threshold lands among the anomalies' scores and flags almost nothing (0.1 % on the labelled sets). So
 * before a target-rate policy is fitted, scores beyond median + 8 × (90th percentile − median) are set
 * aside as likely anomalies. The scale is the upper half of the bulk, which up to 10 % of anomalies cannot
 * move and which a wide or two-humped lower half does not inflate; 8 of it lies beyond the 99.99th
 * percentile of an exponential and about the 99.9th of a log-normal with σ = 1, so a clean sample loses
 * next to nothing. Anomalies mixed into the normal tail stay (no fence can tell them apart): the threshold
 * is then a little high, never among well-separated anomalies. `fence`: another width, for studies
 * (`lab/fence-study.ts`).
 */
export function withoutContamination(
  scores: ArrayLike<number>,
  fence: number = CONTAMINATION_FENCE,
): number[] {
  const values = Array.from(scores as ArrayLike<number>);
  if (values.length < 8 || values.some((v) => !Number.isFinite(v))) return values;
  const sorted = Float64Array.from(values).sort();
  const q = (p: number): number => {
    const i = (sorted.length - 1) * p;
    const lo = Math.floor(i);
    return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (i - lo);
  };
  const scale = q(0.9) - q(0.5);
  if (!(scale > 0)) return values;
  const limit = q(0.5) + fence * scale;
  return values.filter((v) => v <= limit);
}
