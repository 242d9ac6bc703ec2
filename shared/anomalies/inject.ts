/**
 * Synthetic anomalies, exactly as the report injects them into its test part.
 *
 * 15 % of the rows (`floor(0.15·n)`), drawn without replacement, are labelled 1 and altered:
 * - variant A (public data): 2 distinct random numeric features are multiplied by one draw of U(6, 30);
 * - variant B (private data): `max(1, floor(m/2))` distinct numeric features (m = numeric features)
 *   are multiplied by one draw of U(6, 30), then one draw of U(10, 300) is added.
 * Draw order follows the report's numpy code (rows, then per row: features, factor, offset) from one
 * seeded stream whose state the caller keeps drawing from (the report draws its support set right after);
 * with the lab's numpy-exact generator and seed 42 the draws are the report's own. Production (the
 * adapter's golden set) draws from the project's `SeededRandom`.
 *
 * The matrix is the model matrix (row-major, `width` columns); only the columns listed in
 * `numericColumns` are eligible, so one-hot slots of categorical features are never "multiplied".
 */

/** What injection draws: `k` distinct integers from [0, n) and uniform numbers. */
export interface InjectionDraws {
  choice(n: number, k: number): number[];
  uniform(low: number, high: number): number;
}

export type InjectionVariant = 'A' | 'B';

export interface InjectionOptions {
  variant: InjectionVariant;
  /** Model-matrix column indices of the numeric features. */
  numericColumns: readonly number[];
  /** Share of rows to alter (0.15 in the report). */
  fraction?: number;
  /** A seeded stream (the report's `np.random.seed(42)`); drawn from in place. */
  rng: InjectionDraws;
}

export interface InjectedRow {
  row: number;
  /** Model-matrix columns that were altered. */
  columns: number[];
  factor: number;
  /** The added offset (variant B), 0 for variant A. */
  offset: number;
}

export interface InjectionResult {
  /** A copy of the input with the injected rows altered. */
  matrix: Float32Array;
  /** 1 for injected rows, 0 otherwise. */
  labels: Uint8Array;
  injected: InjectedRow[];
}

export const INJECTION_FACTOR = { low: 6, high: 30 } as const;
export const INJECTION_OFFSET = { low: 10, high: 300 } as const;

/** How many features a row gets altered in, per variant (capped by the numeric features available). */
export function featuresPerRow(variant: InjectionVariant, numericCount: number): number {
  if (variant === 'A') return Math.min(2, numericCount);
  return Math.max(1, Math.floor(numericCount / 2));
}

export function injectAnomalies(
  matrix: Float32Array,
  rows: number,
  width: number,
  opts: InjectionOptions,
): InjectionResult {
  if (matrix.length !== rows * width) {
    throw new RangeError(`matrix holds ${matrix.length} values, expected ${rows}×${width}`);
  }
  const m = opts.numericColumns.length;
  if (m === 0) throw new RangeError('anomaly injection needs at least one numeric feature');
  const fraction = opts.fraction ?? 0.15;
  const nAnom = Math.floor(rows * fraction);
  const perRow = featuresPerRow(opts.variant, m);
  const out = matrix.slice();
  const labels = new Uint8Array(rows);
  const injected: InjectedRow[] = [];
  const idx = opts.rng.choice(rows, nAnom);
  for (const r of idx) {
    const columns = opts.rng.choice(m, perRow).map((k) => opts.numericColumns[k]!);
    const factor = opts.rng.uniform(INJECTION_FACTOR.low, INJECTION_FACTOR.high);
    const offset = opts.variant === 'B' ? opts.rng.uniform(INJECTION_OFFSET.low, INJECTION_OFFSET.high) : 0;
    const base = r * width;
    for (const c of columns) out[base + c] = out[base + c]! * factor + offset;
    labels[r] = 1;
    injected.push({ row: r, columns, factor, offset });
  }
  return { matrix: out, labels, injected };
}
