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
 * Used by the conformal policy (not by spot, which models the tail as it is: a legitimately heavy tail would
 * be cut). Calibration rows are held out of unlabelled data, which may hold anomalies. They sit in exactly the tail
 * a target false-positive rate is read from: with a 1 % target and a few percent of anomalies the
 * threshold lands among the anomalies' scores and flags almost nothing (0.1 % on the labelled sets). So
 * before a target-rate policy is fitted, scores beyond Tukey's far-out fence (Q3 + 3·IQR) on a log scale
 * are set aside as likely anomalies. Scores may be negative (normalised ensemble scores), so the log is
 * taken of the score less the minimum plus the median's distance from it.
 */
export function withoutContamination(scores: ArrayLike<number>): number[] {
  const values = Array.from(scores as ArrayLike<number>);
  if (values.length < 8 || values.some((v) => !Number.isFinite(v))) return values;
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number): number => {
    const i = (sorted.length - 1) * p;
    const lo = Math.floor(i);
    return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (i - lo);
  };
  const shift = sorted[0]! - (q(0.5) - sorted[0]!);
  const log = (v: number): number => Math.log(v - shift);
  if (!(q(0.5) - sorted[0]! > 0)) return values;
  const [l1, l3] = [log(q(0.25)), log(q(0.75))];
  const limit = l3 + 3 * (l3 - l1);
  const kept = values.filter((v) => log(v) <= limit);
  return kept;
}
