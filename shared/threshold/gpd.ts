/**
 * The generalised Pareto distribution (GPD) of excesses Y = X − t over a high threshold t, with shape ξ
 * and scale σ > 0:  P(Y > y) = (1 + ξ y / σ)^(−1/ξ)  (ξ ≠ 0),  exp(−y / σ)  (ξ = 0),
 * on y ≥ 0 (and y < σ / |ξ| when ξ < 0). Pickands–Balkema–de Haan: above a high enough threshold the
 * excesses of most continuous distributions are close to a GPD.
 *
 * Fitting (`fitGpd`) is maximum likelihood by Grimshaw's reduction (Grimshaw, "Computing maximum
 * likelihood estimates for the generalized Pareto distribution", Technometrics 35(2), 1993): with
 * x = ξ / σ, the likelihood equations reduce to one equation in x,
 *
 *     w(x) = u(x) · v(x) − 1 = 0,   u(x) = mean(1 / (1 + x Yᵢ)),   v(x) = 1 + mean(log(1 + x Yᵢ)),
 *
 * whose non-zero roots lie in (−1 / max Y, 0) and (0, 2 (Ȳ − min Y) / (min Y)²); each root gives
 * ξ = v(x) − 1 and σ = ξ / x. Roots are bracketed on a grid (dense near both ends of each interval) and
 * refined by bisection. The candidates are every root and the exponential ξ = 0, σ = Ȳ (the x → 0 limit);
 * the one with the highest log-likelihood wins, as Siffer et al. do in SPOT (KDD 2017). Roots with ξ ≤ −1
 * are dropped: there the likelihood is unbounded (it grows without limit as the support's end σ/|ξ|
 * approaches max Y), so the maximum-likelihood estimate does not exist (Grimshaw, §2). If no candidate has a
 * finite likelihood (degenerate excesses), the method-of-moments estimate is the fallback:
 * ξ = (1 − Ȳ²/s²) / 2, σ = Ȳ (1 + Ȳ²/s²) / 2.
 */

export type GpdEstimator = 'grimshaw-mle' | 'exponential-mle' | 'moments';

export interface GpdFit {
  shape: number;
  scale: number;
  estimator: GpdEstimator;
  logLikelihood: number;
}

/** Shapes closer to 0 than this are treated as the exponential limit. */
const ZERO_SHAPE = 1e-9;
const GRID = 128;
const PER_DECADE = 16;
const BISECTIONS = 80;

/** P(Y > y) for the GPD. */
export function gpdSurvival(y: number, shape: number, scale: number): number {
  if (y <= 0) return 1;
  if (Math.abs(shape) < ZERO_SHAPE) return Math.exp(-y / scale);
  const base = 1 + (shape * y) / scale;
  if (base <= 0) return 0;
  return Math.exp(-Math.log(base) / shape);
}

/** The excess y with P(Y > y) = r, for 0 < r ≤ 1. */
export function gpdExcessQuantile(r: number, shape: number, scale: number): number {
  if (Math.abs(shape) < ZERO_SHAPE) return -scale * Math.log(r);
  return (scale / shape) * (Math.pow(r, -shape) - 1);
}

/** The GPD log-likelihood of `y` (−Infinity outside the support or for σ ≤ 0). */
export function gpdLogLikelihood(y: ArrayLike<number>, shape: number, scale: number): number {
  if (!(scale > 0) || !Number.isFinite(shape)) return -Infinity;
  const n = y.length;
  let sum = 0;
  if (Math.abs(shape) < ZERO_SHAPE) {
    for (let i = 0; i < n; i++) sum += y[i]!;
    return -n * Math.log(scale) - sum / scale;
  }
  for (let i = 0; i < n; i++) {
    const z = (shape * y[i]!) / scale;
    if (!(z > -1)) return -Infinity;
    sum += Math.log1p(z);
  }
  return -n * Math.log(scale) - (1 + 1 / shape) * sum;
}

/** Fits a GPD to positive excesses (at least 2). */
export function fitGpd(excesses: ArrayLike<number>): GpdFit {
  const n = excesses.length;
  if (n < 2) throw new RangeError(`a GPD fit needs at least 2 excesses, got ${n}`);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const y = excesses[i]!;
    if (!(y > 0) || !Number.isFinite(y)) throw new RangeError(`excess ${i} is ${y}: excesses must be > 0`);
    sum += y;
    if (y < min) min = y;
    if (y > max) max = y;
  }
  const mean = sum / n;

  const candidates: { shape: number; scale: number; estimator: GpdEstimator }[] = [
    { shape: 0, scale: mean, estimator: 'exponential-mle' },
  ];
  for (const x of grimshawRoots(excesses, mean, min, max)) {
    let v = 0;
    for (let i = 0; i < n; i++) v += Math.log1p(x * excesses[i]!);
    const shape = v / n;
    const scale = shape / x;
    if (shape > -1 && scale > 0) candidates.push({ shape, scale, estimator: 'grimshaw-mle' });
  }

  let best: GpdFit | null = null;
  for (const c of candidates) {
    const ll = gpdLogLikelihood(excesses, c.shape, c.scale);
    if (Number.isFinite(ll) && (best === null || ll > best.logLikelihood)) best = { ...c, logLikelihood: ll };
  }
  return best ?? momentsFit(excesses, mean);
}

function momentsFit(y: ArrayLike<number>, mean: number): GpdFit {
  let ss = 0;
  for (let i = 0; i < y.length; i++) ss += (y[i]! - mean) ** 2;
  const variance = ss / (y.length - 1);
  const ratio = variance > 0 ? (mean * mean) / variance : 1;
  const shape = 0.5 * (1 - ratio);
  const scale = 0.5 * mean * (1 + ratio);
  return { shape, scale, estimator: 'moments', logLikelihood: gpdLogLikelihood(y, shape, scale) };
}

/** w(x) = u(x) v(x) − 1 (Grimshaw). */
function grimshawW(y: ArrayLike<number>, x: number): number {
  const n = y.length;
  let u = 0;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const s = 1 + x * y[i]!;
    u += 1 / s;
    v += Math.log1p(x * y[i]!);
  }
  return (u / n) * (1 + v / n) - 1;
}

/** Non-zero roots of w in Grimshaw's two intervals. */
function grimshawRoots(y: ArrayLike<number>, mean: number, min: number, max: number): number[] {
  const roots: number[] = [];
  // Negative interval (−1/max, 0): fractions of −1/max, dense near 0 and near −1/max.
  const negative = endDenseFractions().map((s) => -s / max);
  negative.sort((a, b) => a - b);
  roots.push(...bracketRoots(y, negative));
  // Positive interval (0, 2(Ȳ − min)/min²): its end can be orders of magnitude beyond the root (a tiny
  // smallest excess), so the grid is geometric from 1e-8/max, PER_DECADE points a decade, and dense near the end.
  const upper = (2 * (mean - min)) / (min * min);
  const start = 1e-8 / max;
  if (upper > start && Number.isFinite(upper)) {
    const decades = Math.log10(upper / start);
    const steps = Math.max(2, Math.ceil(decades * PER_DECADE));
    const positive: number[] = [];
    for (let i = 0; i < steps; i++) positive.push(start * Math.pow(10, (i * decades) / steps));
    for (const s of endDenseFractions()) if (s > 0.5) positive.push(upper * s);
    positive.sort((a, b) => a - b);
    roots.push(...bracketRoots(y, positive));
  }
  return roots;
}

/** Fractions in (0, 1), geometric towards both ends. */
function endDenseFractions(): number[] {
  const out: number[] = [];
  for (let i = 0; i < GRID; i++) {
    const e = Math.pow(10, -8 + (i * 7.7) / (GRID - 1)); // 1e-8 … ~0.5
    out.push(e, 1 - e);
  }
  return out;
}

function bracketRoots(y: ArrayLike<number>, xs: number[]): number[] {
  const roots: number[] = [];
  let prevX = xs[0]!;
  let prevW = grimshawW(y, prevX);
  for (let j = 1; j < xs.length; j++) {
    const x = xs[j]!;
    const w = grimshawW(y, x);
    if (Number.isFinite(prevW) && Number.isFinite(w) && prevW !== 0 && Math.sign(w) !== Math.sign(prevW)) {
      let a = prevX;
      let b = x;
      let wa = prevW;
      for (let k = 0; k < BISECTIONS; k++) {
        const m = 0.5 * (a + b);
        const wm = grimshawW(y, m);
        if (wm === 0) {
          a = b = m;
          break;
        }
        if (Math.sign(wm) === Math.sign(wa)) {
          a = m;
          wa = wm;
        } else b = m;
      }
      roots.push(0.5 * (a + b));
    } else if (w === 0) roots.push(x);
    prevX = x;
    prevW = w;
  }
  return roots;
}
