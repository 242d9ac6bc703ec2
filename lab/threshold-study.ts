/**
 * Lab (not production): threshold estimators for a target false-positive rate, on the scores
 * `npm run bench:quality -- --dump-scores DIR` wrote. For each set, the false-positive rate on the normal
 * test rows at α = 0.01 (mean over the dumped seeds, then each seed).
 *
 *   npx tsx lab/threshold-study.ts DIR [DIR…]
 */
import { clusterStart, CONTAMINATION_FENCE, withoutContamination } from '../shared/threshold/calibration.js';
import { ConformalPolicy } from '../shared/threshold/conformal.js';
import { gpdExcessQuantile, gpdSurvival } from '../shared/threshold/gpd.js';
import { SpotPolicy } from '../shared/threshold/spot.js';
import { readDumps, testFpr, type Dump } from './eval/dumps.js';

const ALPHA = Number(process.env.ALPHA ?? 0.01);

function quantile(sorted: ArrayLike<number>, p: number): number {
  const i = (sorted.length - 1) * p;
  const lo = Math.floor(i);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

/** Threshold with an expected exceedance of α: position (1 − α)(n + 1) among 1…n, interpolated. */
function interpolated(values: number[], alpha: number): number {
  const s = Float64Array.from(values).sort();
  const pos = (1 - alpha) * (s.length + 1); // 1-based
  const lo = Math.max(1, Math.min(s.length, Math.floor(pos)));
  const hi = Math.min(s.length, lo + 1);
  const f = Math.min(1, Math.max(0, pos - lo));
  return s[lo - 1]! + (s[hi - 1]! - s[lo - 1]!) * f;
}

/** Truncated-GPD log-likelihood of excesses y ≤ L. */
function truncLl(y: Float64Array, L: number, xi: number, sigma: number): number {
  const tail = 1 - gpdSurvival(L, xi, sigma);
  if (!(tail > 0)) return -Infinity;
  let sum = 0;
  for (const v of y) {
    if (Math.abs(xi) < 1e-9) sum += -Math.log(sigma) - v / sigma;
    else {
      const z = 1 + (xi * v) / sigma;
      if (!(z > 0)) return -Infinity;
      sum += -Math.log(sigma) - (1 + 1 / xi) * Math.log(z);
    }
  }
  return sum - y.length * Math.log(tail);
}

/**
 * Fit a GPD to the excesses over the u-quantile that lie below the c-quantile (truncated likelihood, the top
 * 1 − c ignored as possible anomalies), and read the (1 − α) quantile from it with P(X > Q(u)) = 1 − u.
 */
function trimmedTail(values: number[], alpha: number, u: number, c: number, fixedXi?: number): number {
  const s = Float64Array.from(values).sort();
  const t = quantile(s, u);
  const L = quantile(s, c) - t;
  const y = Float64Array.from(
    Array.from(s)
      .filter((v) => v > t && v - t <= L)
      .map((v) => v - t),
  );
  if (y.length < 5 || !(L > 0)) return interpolated(values, alpha);
  let best = { ll: -Infinity, xi: 0, sigma: 1 };
  const xis = fixedXi !== undefined ? [fixedXi] : Array.from({ length: 81 }, (_, i) => -0.6 + i * 0.025);
  for (const xi of xis) {
    let lo = Math.log(L) - 8;
    let hi = Math.log(L) + 8;
    for (let k = 0; k < 80; k++) {
      const a = lo + (hi - lo) * 0.382;
      const b = lo + (hi - lo) * 0.618;
      if (truncLl(y, L, xi, Math.exp(a)) > truncLl(y, L, xi, Math.exp(b))) hi = b;
      else lo = a;
    }
    const sigma = Math.exp(0.5 * (lo + hi));
    const ll = truncLl(y, L, xi, sigma);
    if (ll > best.ll) best = { ll, xi, sigma };
  }
  return t + gpdExcessQuantile(alpha / (1 - u), best.xi, best.sigma);
}

/** `withoutContamination` with its scale from another quantile: (q − median) × ratio (the exponential's). */
function withoutScaled(values: number[], q: number): number[] {
  const s = Float64Array.from(values).sort();
  const median = quantile(s, 0.5);
  const ratio = Math.log(5) / Math.log(0.5 / (1 - q));
  const scale = (quantile(s, q) - median) * ratio;
  if (!(scale > 0)) return values;
  const cluster = clusterStart(s, median, scale, CONTAMINATION_FENCE);
  const limit = median + Math.min(CONTAMINATION_FENCE, cluster) * scale;
  return values.filter((v) => (cluster <= CONTAMINATION_FENCE ? v < limit : v <= limit));
}

type Variant = { name: string; threshold(d: Dump): number };
const clean = (d: Dump): number[] => d.calibration.filter((_, i) => d.calibrationLabels?.[i] === 0);
const conformal = (v: number[]): number =>
  ConformalPolicy.fit({ alpha: ALPHA }, v, 'study', { clean: true }).threshold;

const VARIANTS: Variant[] = [
  {
    name: 'current',
    threshold: (d) => ConformalPolicy.fit({ alpha: ALPHA }, d.calibration, 'study').threshold,
  },
  { name: 'p75', threshold: (d) => conformal(withoutScaled(d.calibration, 0.75)) },
  { name: 'p80', threshold: (d) => conformal(withoutScaled(d.calibration, 0.8)) },
  { name: 'p90', threshold: (d) => conformal(withoutScaled(d.calibration, 0.9)) },
  { name: 'interp', threshold: (d) => interpolated(withoutContamination(d.calibration), ALPHA) },
  {
    name: 'spot',
    threshold: (d) => SpotPolicy.fit({ q: ALPHA }, withoutContamination(d.calibration), 's').threshold,
  },
  {
    name: 'spot.9',
    threshold: (d) =>
      SpotPolicy.fit({ q: ALPHA, initialLevel: 0.9 }, withoutContamination(d.calibration), 's').threshold,
  },
  { name: 'trim80-97', threshold: (d) => trimmedTail(withoutContamination(d.calibration), ALPHA, 0.8, 0.97) },
  { name: 'trim90-98', threshold: (d) => trimmedTail(withoutContamination(d.calibration), ALPHA, 0.9, 0.98) },
  {
    name: 'exp80-97',
    threshold: (d) => trimmedTail(withoutContamination(d.calibration), ALPHA, 0.8, 0.97, 0),
  },
  {
    name: 'exp90-98',
    threshold: (d) => trimmedTail(withoutContamination(d.calibration), ALPHA, 0.9, 0.98, 0),
  },
  { name: 'clean', threshold: (d) => conformal(clean(d)) },
  { name: 'clean-interp', threshold: (d) => interpolated(clean(d), ALPHA) },
];

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error('usage: npx tsx lab/threshold-study.ts DIR [DIR…]');
const bySet = readDumps(dirs);
const only = process.env.VARIANTS?.split(',');
const variants = VARIANTS.filter((v) => !only || only.includes(v.name));
console.log(['set (runs)', ...variants.map((v) => v.name)].join(' | '));
const inBand = new Map<string, number>();
for (const [set, dumps] of bySet) {
  const cells = variants.map((v) => {
    const rates = dumps.map((d) => 100 * testFpr(d, v.threshold(d)));
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    if (mean >= 0.5 && mean <= 2) inBand.set(v.name, (inBand.get(v.name) ?? 0) + 1);
    const per = process.env.PER === '1' ? ` [${rates.map((r) => r.toFixed(2)).join(' ')}]` : '';
    return `${mean.toFixed(2)}${per}`;
  });
  console.log([`${set} (${dumps.length})`, ...cells].join(' | '));
}
console.log(['in 0.5–2 %', ...variants.map((v) => `${inBand.get(v.name) ?? 0}/${bySet.size}`)].join(' | '));
