/**
 * Which rows are held out for calibration: a seeded share, never trained on, so their scores are
 * exchangeable with new normal rows' scores (what `conformal`'s guarantee and `spot`'s tail fit need).
 * Training (`trainDetector`) and the evaluation (`runTrial`) both split with this.
 */
import { SmaeError } from '../errors.js';
import { createRng, shuffleInPlace } from '../random.js';

/** The share of rows held out for calibration when a threshold policy is chosen. */
export const DEFAULT_CALIBRATION_FRACTION = 0.2;

/** Stream id of the split's generator, so it never shares draws with weight init or shuffling. */
const STREAM = 0xca1;

export interface CalibrationSplit {
  /** Row indices to fit on, ascending. */
  fit: Int32Array;
  /** Row indices held out for calibration, ascending. */
  calibration: Int32Array;
}

/**
 * round(n · fraction) rows drawn at random (seeded) for calibration, and at least `minRows` (what the
 * threshold policy needs to fit: `calibrationRowsFor`) as long as half the rows are left to fit on; the
 * rest to fit on. A small table thus still calibrates a 1 % target (conformal needs 99 scores for it)
 * instead of failing; where round(n · fraction) is enough, the split is exactly what it was without it.
 */
export function calibrationSplit(n: number, fraction: number, seed: number, minRows = 0): CalibrationSplit {
  if (!(fraction > 0 && fraction < 1)) {
    throw new SmaeError('INVALID_CONFIG', `calibration fraction must be within (0, 1), got ${fraction}`);
  }
  const held = Math.max(Math.round(n * fraction), Math.min(minRows, Math.floor(n / 2)));
  if (held < 1 || n - held < 2) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${n} rows cannot be split into training rows and ${(fraction * 100).toFixed(0)} % calibration rows`,
    );
  }
  const order = shuffleInPlace(
    Int32Array.from({ length: n }, (_, i) => i),
    createRng(seed, STREAM),
  );
  const calibration = order.slice(0, held).sort();
  const fit = order.slice(held).sort();
  return { fit, calibration };
}

/** The rows of a row-major matrix at `index`, as a new matrix. */
export function takeRows(matrix: Float32Array, width: number, index: ArrayLike<number>): Float32Array {
  const out = new Float32Array(index.length * width);
  for (let i = 0; i < index.length; i++) {
    const r = index[i]!;
    out.set(matrix.subarray(r * width, (r + 1) * width), i * width);
  }
  return out;
}
