/**
 * A seeded, labelled stream whose normal distribution drifts, for the drift benchmark and the
 * adapter's tests. Small on purpose (d numeric features, a few thousand rows per window) so the
 * benchmark runs in minutes on the CPU backend.
 *
 * Normal rows live near a low-dimensional manifold, which an autoencoder can learn:
 * `x_j = μ_j + s_j·((A z)_j + m_j(w) + noise·ε_j)`, with `z ~ N(0, I_k)`, a fixed random mixing
 * `A` (d×k), per-feature offsets `μ_j` in 10–15 and scales `s_j` in 1–3 (so every raw value is
 * well away from 0 and the report's multiplicative injections really move it), and a drift offset
 * `m(w)` per window `w` that leaves the manifold (random directions orthogonal to A's columns):
 * - windows `[0, abruptAt)`: stable, `m = 0` (the training distribution);
 * - from `abruptAt`: a step `abruptShift·u` (a deployment changes the data at once);
 * - from `gradualFrom`: a further `gradualShift·v·(w − gradualFrom + 1)/(windows − gradualFrom)`,
 *   growing linearly to the end.
 *
 * Anomalies are the report's, injected in raw units at `anomalyShare` of each window, half variant A
 * (2 numeric features × U(6, 30)) and half variant B (half the features × U(6, 30) + U(10, 300)),
 * plus `subtleShare` of subtle ones (2 features × U(1.1, 1.3), label 2).
 *
 * `poisonRows` builds the slow-poisoning attack: normal rows whose target features are multiplied by a
 * factor the attacker raises cycle after cycle, always just low enough that the current model scores
 * them as normal (see the benchmark).
 */
import { SeededRandom } from '../../shared/random.js';
import type { FeatureSpec } from '../../shared/preprocessing/spec.js';

export interface DriftStreamOptions {
  features: number;
  latent: number;
  /** Per-feature noise, in latent units. */
  noise: number;
  rowsPerWindow: number;
  windows: number;
  abruptAt: number;
  gradualFrom: number;
  /** Size of the abrupt offset, in latent units (norm over features). */
  abruptShift: number;
  /** Size of the gradual offset reached at the last window. */
  gradualShift: number;
  anomalyShare: number;
  /**
   * Share of *subtle* anomalies (label 2) on top: 2 numeric features × U(1.1, 1.3). Not the report's;
   * they show what a threshold that inflates to follow drift stops catching.
   */
  subtleShare: number;
  /** Distinct entity keys rows are spread over. */
  keys: number;
  seed: number;
}

export const DRIFT_STREAM_DEFAULTS: DriftStreamOptions = {
  features: 10,
  latent: 2,
  noise: 0.15,
  rowsPerWindow: 1000,
  windows: 24,
  abruptAt: 6,
  gradualFrom: 12,
  abruptShift: 0.6,
  gradualShift: 1.2,
  anomalyShare: 0.15,
  subtleShare: 0.05,
  keys: 50,
  seed: 2024,
};

export interface SimRow {
  record: Record<string, number | string>;
  key: string;
  ts: number;
  /** 1 for one of the report's injected anomalies, 2 for a subtle one. */
  label: 0 | 1 | 2;
  /** True for a poisoning row (label 0 as far as the stream's producer claims). */
  poison?: boolean;
}

const WINDOW_MS = 60_000;
const T0 = Date.UTC(2025, 0, 1);

export class DriftStream {
  readonly opts: DriftStreamOptions;
  readonly featureNames: string[];
  private readonly mix: Float64Array; // d×k
  private readonly mu: Float64Array;
  private readonly scale: Float64Array;
  private readonly abruptDir: Float64Array;
  private readonly gradualDir: Float64Array;

  constructor(opts: Partial<DriftStreamOptions> = {}) {
    this.opts = { ...DRIFT_STREAM_DEFAULTS, ...opts };
    const { features: d, latent: k } = this.opts;
    this.featureNames = Array.from({ length: d }, (_, j) => `f${j}`);
    const rng = new SeededRandom(this.opts.seed);
    this.mix = new Float64Array(d * k);
    for (let i = 0; i < d * k; i++) this.mix[i] = rng.normal() / Math.sqrt(k);
    this.mu = new Float64Array(d).map(() => rng.uniform(10, 15));
    this.scale = new Float64Array(d).map(() => rng.uniform(1, 3));
    // Drift directions orthogonal to the manifold (A's column space), so a given shift size moves the
    // normal rows off what the model learnt by the same amount whatever the seed.
    const basis = orthonormalColumns(this.mix, d, k);
    this.abruptDir = unit(
      offManifold(
        Float64Array.from({ length: d }, () => rng.normal()),
        basis,
      ),
    );
    this.gradualDir = unit(
      offManifold(
        Float64Array.from({ length: d }, () => rng.normal()),
        basis,
      ),
    );
  }

  /** The feature spec the benchmark trains with: every numeric field, standardized. */
  featureSpec(): FeatureSpec {
    return {
      features: this.featureNames.map((name) => ({ kind: 'numeric' as const, name })),
      scaler: 'standard',
      impute: 'error',
    };
  }

  /** The drift offset of window `w`, in latent units per feature. */
  offset(w: number): Float64Array {
    const o = this.opts;
    const m = new Float64Array(o.features);
    if (w >= o.abruptAt) for (let j = 0; j < o.features; j++) m[j] = o.abruptShift * this.abruptDir[j]!;
    if (w >= o.gradualFrom) {
      const frac = (w - o.gradualFrom + 1) / Math.max(1, o.windows - o.gradualFrom);
      for (let j = 0; j < o.features; j++) m[j] = m[j]! + o.gradualShift * frac * this.gradualDir[j]!;
    }
    return m;
  }

  /** Anomaly-free rows from the stable distribution (the trainer's data). */
  trainingRows(n: number, seed = this.opts.seed + 1): SimRow[] {
    const rng = new SeededRandom(seed);
    return Array.from({ length: n }, (_, i) =>
      this.normalRow(rng, new Float64Array(this.opts.features), T0 - (n - i) * 10),
    );
  }

  /** Window `w`: normal rows of its distribution with the report's anomalies at `anomalyShare`. */
  window(w: number): SimRow[] {
    const o = this.opts;
    const rng = new SeededRandom(this.opts.seed * 1000 + 17 * w + 3);
    const m = this.offset(w);
    const rows: SimRow[] = [];
    for (let i = 0; i < o.rowsPerWindow; i++) {
      rows.push(this.normalRow(rng, m, T0 + w * WINDOW_MS + Math.floor((i * WINDOW_MS) / o.rowsPerWindow)));
    }
    const nAnom = Math.floor(o.anomalyShare * o.rowsPerWindow);
    const picks = rng.choice(o.rowsPerWindow, nAnom);
    picks.forEach((r, n) => injectReport(rows[r]!, this.featureNames, n % 2 === 0 ? 'A' : 'B', rng));
    const taken = new Set(picks);
    const free = Array.from({ length: o.rowsPerWindow }, (_, i) => i).filter((i) => !taken.has(i));
    const nSubtle = Math.min(free.length, Math.floor(o.subtleShare * o.rowsPerWindow));
    for (const k of rng.choice(free.length, nSubtle)) injectSubtle(rows[free[k]!]!, this.featureNames, rng);
    return rows;
  }

  /**
   * `n` poisoning rows: stable-distribution rows whose `targets` features are multiplied by `factor`,
   * all from one key (the attacker's), unlabelled.
   */
  poisonRows(
    n: number,
    factor: number,
    targets: readonly string[],
    seed: number,
    key = 'attacker',
  ): SimRow[] {
    const rng = new SeededRandom(seed);
    const rows: SimRow[] = [];
    for (let i = 0; i < n; i++) {
      const r = this.normalRow(rng, new Float64Array(this.opts.features), T0 + i);
      for (const f of targets) r.record[f] = (r.record[f] as number) * factor;
      r.key = key;
      r.record['entity'] = key;
      r.poison = true;
      rows.push(r);
    }
    return rows;
  }

  private normalRow(rng: SeededRandom, m: Float64Array, ts: number): SimRow {
    const { features: d, latent: k, noise } = this.opts;
    const z = Array.from({ length: k }, () => rng.normal());
    const record: Record<string, number | string> = {};
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let c = 0; c < k; c++) v += this.mix[j * k + c]! * z[c]!;
      record[this.featureNames[j]!] = this.mu[j]! + this.scale[j]! * (v + m[j]! + noise * rng.normal());
    }
    const key = `e${rng.int(this.opts.keys)}`;
    record['entity'] = key;
    return { record, key, ts, label: 0 };
  }
}

/** The report's injection of one row, in raw units (variant A or B), in place. */
export function injectReport(
  row: SimRow,
  numeric: readonly string[],
  variant: 'A' | 'B',
  rng: SeededRandom,
): void {
  const k = variant === 'A' ? Math.min(2, numeric.length) : Math.max(1, Math.floor(numeric.length / 2));
  const cols = rng.choice(numeric.length, k).map((i) => numeric[i]!);
  const factor = rng.uniform(6, 30);
  const shift = variant === 'B' ? rng.uniform(10, 300) : 0;
  for (const c of cols) row.record[c] = (row.record[c] as number) * factor + shift;
  row.label = 1;
}

/** A subtle anomaly: 2 numeric features × U(1.1, 1.3), in place (label 2). */
export function injectSubtle(row: SimRow, numeric: readonly string[], rng: SeededRandom): void {
  const cols = rng.choice(numeric.length, Math.min(2, numeric.length)).map((i) => numeric[i]!);
  const factor = rng.uniform(1.1, 1.3);
  for (const c of cols) row.record[c] = (row.record[c] as number) * factor;
  row.label = 2;
}

/** Gram–Schmidt on the k columns of the row-major d×k matrix `m`. */
function orthonormalColumns(m: Float64Array, d: number, k: number): Float64Array[] {
  const basis: Float64Array[] = [];
  for (let c = 0; c < k; c++) {
    const v = Float64Array.from({ length: d }, (_, j) => m[j * k + c]!);
    const r = offManifold(v, basis);
    if (Math.hypot(...r) > 1e-9) basis.push(unit(r));
  }
  return basis;
}

/** `v` minus its projection on the orthonormal `basis`. */
function offManifold(v: Float64Array, basis: readonly Float64Array[]): Float64Array {
  const out = Float64Array.from(v);
  for (const q of basis) {
    let dot = 0;
    for (let j = 0; j < out.length; j++) dot += out[j]! * q[j]!;
    for (let j = 0; j < out.length; j++) out[j] = out[j]! - dot * q[j]!;
  }
  return out;
}

function unit(v: Float64Array): Float64Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
