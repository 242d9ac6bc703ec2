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
