/**
 * Robust statistics for scoring reconstruction residuals, in plain float64 JavaScript (no tensors):
 * fitted once on calibration rows, then applied as a few tensor ops per batch by the scorer.
 *
 * - `median`, `mad`: the column-wise location and spread that one wild value cannot move;
 * - `fitRobustGaussian`: a location and covariance from the most central share of rows (concentration
 *   steps as in FAST-MCD, Rousseeuw & Van Driessen 1999: start from the coordinate-wise median and MAD,
 *   keep the `support` share of rows with the smallest distances, re-estimate, repeat), ridge-regularised
 *   so constant or collinear columns never make it singular;
 * - `cholesky`, `whitener`: the lower-triangular factor of a covariance and the matrix W with
 *   `‖(x − μ)·W‖² = (x − μ)ᵀ Σ⁻¹ (x − μ)`, the squared Mahalanobis distance, one matMul per batch.
 */

/** Scale factor that makes the MAD a consistent estimate of the standard deviation for normal data. */
export const MAD_TO_SD = 1.4826;

/** The median of `values` (the mean of the two middle values for an even count); NaN for none. */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median absolute deviation from `center` (the median when not given); not scaled. */
export function mad(values: ArrayLike<number>, center: number = median(values)): number {
  const dev = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) dev[i] = Math.abs(values[i]! - center);
  return median(dev);
}

/** Column `j` of a row-major `rows × d` matrix. */
export function column(x: ArrayLike<number>, rows: number, d: number, j: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = x[i * d + j]!;
  return out;
}

export interface RobustScale {
  /** Per-column median. */
  center: number[];
  /**
   * Per-column spread: 1.4826 · MAD, falling back to the standard deviation when more than half the
   * values are equal (MAD 0), and to `floor` when the column is constant.
   */
  spread: number[];
}

/** Column-wise median and MAD-based spread of a row-major matrix. */
export function robustScale(x: ArrayLike<number>, rows: number, d: number, floor = 1e-6): RobustScale {
  const center: number[] = [];
  const spread: number[] = [];
  for (let j = 0; j < d; j++) {
    const c = column(x, rows, d, j);
    const m = median(c);
    let s = MAD_TO_SD * mad(c, m);
    if (!(s > floor)) s = Math.max(standardDeviation(c), floor);
    center.push(m);
    spread.push(s);
  }
  return { center, spread };
}

/** The population standard deviation; 0 for none. */
export function standardDeviation(v: Float64Array): number {
  if (v.length === 0) return 0;
  let mean = 0;
  for (const x of v) mean += x;
  mean /= v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return Math.sqrt(ss / v.length);
}

export interface RobustGaussian {
  /** Location (mean of the retained rows). */
  mean: number[];
  /** Covariance of the retained rows plus the ridge, row-major `d × d`. */
  covariance: number[];
  /** Share of rows retained by the last concentration step. */
  support: number;
  /** The ridge added to the diagonal. */
  ridge: number;
}

export interface RobustGaussianOptions {
  /** Share of rows kept by each concentration step (0.75; FAST-MCD's default h ≈ (n + d + 1) / 2 is 0.5). */
  support?: number;
  /** Concentration steps (5). */
  steps?: number;
  /** Ridge relative to the mean diagonal variance (1e-6), plus an absolute 1e-12. */
  ridge?: number;
}

/**
 * A robust location and covariance: see the module comment. Deterministic (no random starts): the
 * first subset is the rows closest to the coordinate-wise median in MAD units.
 */
export function fitRobustGaussian(
  x: ArrayLike<number>,
  rows: number,
  d: number,
  opts: RobustGaussianOptions = {},
): RobustGaussian {
  if (rows < 1 || d < 1) throw new RangeError(`robust covariance needs rows and columns, got ${rows}×${d}`);
  const support = opts.support ?? 0.75;
  if (!(support > 0 && support <= 1)) throw new RangeError(`support must be in (0, 1], got ${support}`);
  const steps = opts.steps ?? 5;
  const relRidge = opts.ridge ?? 1e-6;
  const h = Math.max(Math.min(rows, d + 1), Math.ceil(support * rows));

  // Start: distances in MAD units from the coordinate-wise median.
  const start = robustScale(x, rows, d);
  const dist = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += ((x[i * d + j]! - start.center[j]!) / start.spread[j]!) ** 2;
    dist[i] = s;
  }
  let fit = meanCovariance(x, d, smallest(dist, h), relRidge);
  for (let step = 0; step < steps; step++) {
    const w = whitener(fit.covariance, d);
    mahalanobisInto(x, rows, d, fit.mean, w, dist);
    const next = meanCovariance(x, d, smallest(dist, h), relRidge);
    const moved = next.mean.some((m, j) => Math.abs(m - fit.mean[j]!) > 1e-12 * (1 + Math.abs(m)));
    fit = next;
    if (!moved) break;
  }
  return { ...fit, support: h / rows };
}

/** Indices of the `h` smallest values. */
function smallest(values: Float64Array, h: number): Uint32Array {
  const idx = Uint32Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[a]! - values[b]!);
  return idx.subarray(0, h);
}

function meanCovariance(
  x: ArrayLike<number>,
  d: number,
  index: ArrayLike<number>,
  relRidge: number,
): { mean: number[]; covariance: number[]; ridge: number } {
  const n = index.length;
  const mean = new Array<number>(d).fill(0);
  for (let k = 0; k < n; k++) {
    const base = index[k]! * d;
    for (let j = 0; j < d; j++) mean[j]! += x[base + j]!;
  }
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const cov = new Array<number>(d * d).fill(0);
  const r = new Float64Array(d);
  for (let k = 0; k < n; k++) {
    const base = index[k]! * d;
    for (let j = 0; j < d; j++) r[j] = x[base + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = r[a]!;
      if (ra === 0) continue;
      for (let b = 0; b <= a; b++) cov[a * d + b]! += ra * r[b]!;
    }
  }
  let trace = 0;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const v = cov[a * d + b]! / Math.max(1, n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
    trace += cov[a * d + a]!;
  }
  const ridge = relRidge * (trace / d) + 1e-12;
  for (let a = 0; a < d; a++) cov[a * d + a]! += ridge;
  return { mean, covariance: cov, ridge };
}

/**
 * The lower-triangular Cholesky factor L (row-major `d × d`) with `L·Lᵀ = a`. A pivot that is not
 * positive (a matrix not positive definite) throws `RangeError`.
 */
export function cholesky(a: ArrayLike<number>, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`matrix is not positive definite (pivot ${i}: ${s})`);
        l[i * d + i] = Math.sqrt(s);
      } else {
        l[i * d + j] = s / l[j * d + j]!;
      }
    }
  }
  return l;
}

/**
 * W = (L⁻¹)ᵀ, row-major `d × d`, for a covariance Σ = L·Lᵀ: a row vector r gives
 * `‖r·W‖² = rᵀ Σ⁻¹ r`. So the scorer computes Mahalanobis distances with one matMul per batch.
 */
export function whitener(covariance: ArrayLike<number>, d: number): Float64Array {
  const l = cholesky(covariance, d);
  // Inverse of the lower-triangular L by forward substitution, column by column.
  const inv = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    for (let i = c; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * d + k]! * inv[k * d + c]!;
      inv[i * d + c] = s / l[i * d + i]!;
    }
  }
  const w = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i * d + j] = inv[j * d + i]!;
  return w;
}

/** Squared Mahalanobis distances of each row to `mean` under the whitener `w`, written into `out`. */
export function mahalanobisInto(
  x: ArrayLike<number>,
  rows: number,
  d: number,
  mean: ArrayLike<number>,
  w: ArrayLike<number>,
  out: Float64Array | Float32Array,
): void {
  const r = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) r[j] = x[i * d + j]! - mean[j]!;
    let s = 0;
    for (let c = 0; c < d; c++) {
      let z = 0;
      for (let k = 0; k < d; k++) z += r[k]! * w[k * d + c]!;
      s += z * z;
    }
    out[i] = s;
  }
}

/** The inverse of a covariance, `W·Wᵀ` for its whitener (row-major `d × d`). */
export function precisionFromWhitener(w: ArrayLike<number>, d: number): Float64Array {
  const p = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += w[a * d + k]! * w[b * d + k]!;
      p[a * d + b] = s;
    }
  }
  return p;
}
