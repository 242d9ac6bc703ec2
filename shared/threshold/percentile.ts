/**
 * The one percentile of the project (numpy's), used by the `percentile` and `spot` threshold policies,
 * the evaluation and the reports.
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
