/**
 * The one percentile of the project (numpy's), used by the `percentile` and `spot` threshold policies,
 * the evaluation and the reports; and how far a threshold refitted on finite scores moves by sampling
 * alone (the adapter's threshold-step guardrail).
 */

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

/**
 * Where a threshold refitted on `scores` could as well have landed by sampling alone: with r the scores
 * above it out of n (its exceedance share p = (r + 1) / (n + 1)), the order statistics δ = ⌈z · √(n · p · (1 − p))⌉
 * ranks below and above its rank — the normal approximation of a quantile's distribution-free
 * confidence interval (z = 1.96: about 95 %). Whatever policy chose the threshold, a move of the
 * threshold that stays inside this interval is no evidence of a change in the scores. Returns
 * [low, high]; an empty set gives the threshold itself at both ends.
 */
export function thresholdInterval(scores: ArrayLike<number>, threshold: number, z = 1.96): [number, number] {
  const sorted = Float64Array.from(scores as ArrayLike<number>).filter((v) => !Number.isNaN(v));
  const n = sorted.length;
  if (n === 0) return [threshold, threshold];
  sorted.sort();
  let above = 0;
  while (above < n && sorted[n - 1 - above]! > threshold) above++;
  // Smoothed, so that a threshold at the largest score (a conformal one on few rows) still has a width.
  const p = (above + 1) / (n + 1);
  const delta = Math.ceil(z * Math.sqrt(n * p * (1 - p)));
  // The threshold's own rank: the last score at or below it (the policy's order statistic).
  const rank = n - above - 1;
  const at = (i: number): number => sorted[Math.min(n - 1, Math.max(0, i))]!;
  return [Math.min(threshold, at(rank - delta)), Math.max(threshold, at(rank + delta))];
}
