/**
 * The anomaly threshold: a percentile of reference scores (the training rows' MSE in the report), and the
 * decision `score > value`, kept apart from the model as River and Alibi Detect do.
 */
import type { ThresholdInfo } from '../model/artifact.js';

/**
 * numpy's `np.percentile(values, p)` with its default `linear` method: the value at virtual index
 * `(n - 1) · p / 100`, linearly interpolated with numpy's own `_lerp` (which computes from the upper
 * neighbour when the fraction is ≥ 0.5), so results match numpy to the last bit on float64 inputs.
 * Like numpy, any NaN in `values` gives NaN. Throws `RangeError` for no values or p outside [0, 100].
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  const n = values.length;
  if (n === 0) throw new RangeError('percentile of an empty set of values');
  const sorted = Float64Array.from(values as ArrayLike<number>);
  for (const v of sorted) if (Number.isNaN(v)) return Number.NaN;
  sorted.sort();
  const index = (n - 1) * (p / 100);
  const below = Math.floor(index);
  const lo = sorted[Math.min(below, n - 1)]!;
  const hi = sorted[Math.min(below + 1, n - 1)]!;
  const t = index - below;
  const diff = hi - lo;
  return t >= 0.5 ? hi - diff * (1 - t) : lo + diff * t;
}

export class Threshold {
  readonly info: Readonly<ThresholdInfo>;

  constructor(info: ThresholdInfo) {
    if (!Number.isFinite(info.value))
      throw new RangeError(`threshold value must be finite, got ${info.value}`);
    this.info = Object.freeze({ ...info });
  }

  /** The threshold at percentile `p` of `scores` (e.g. training MSE); refuses a non-finite result. */
  static fromScores(scores: ArrayLike<number>, p: number, reference: string): Threshold {
    return new Threshold({
      value: percentile(scores, p),
      percentile: p,
      reference,
      referenceRows: scores.length,
    });
  }

  get value(): number {
    return this.info.value;
  }

  /** Strictly greater: a score equal to the threshold is normal, as in the report (`mse > threshold`). */
  isAnomaly(score: number): boolean {
    return score > this.info.value;
  }
}
