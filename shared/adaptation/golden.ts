/**
 * The golden set: a frozen set of known anomalies the adapted model must still flag.
 *
 * Built once per anchor (the last trainer-published version) and never updated by adaptation, so a
 * slow poisoning cannot move it. Construction: take rows the anchor model scores as clean, in model
 * space, and alter them with the report's injections (variant A: 2 numeric features × U(6, 30);
 * variant B: half the numeric features × U(6, 30) + U(10, 300)), rows split evenly between the
 * configured variants; keep the altered rows the *anchor* flags. The set is therefore "what the
 * model was able to catch when it was trusted"; recall on it is 1 for the anchor by construction,
 * and a candidate that loses more than the bound is refused.
 *
 * Injection happens in model space (after scaling), as in the report's protocol, so the golden set
 * does not depend on the raw units and stays valid as long as the preprocessing is the anchor's
 * (adaptation never refits it).
 */
import { SeededRandom } from '../random.js';
import { injectAnomalies } from '../anomalies/inject.js';

export interface MatrixScorer {
  scoreMatrix(
    matrix: Float32Array,
    rows: number,
    opts?: { topK?: number },
  ): { score: number; isAnomaly: boolean }[];
}

export interface GoldenSet {
  /** Row-major model-space matrix of the kept injected rows. */
  matrix: Float32Array;
  rows: number;
  width: number;
  variants: ('A' | 'B')[];
  /** Injected rows before keeping only those the anchor flags. */
  injected: number;
  /** Share of the injected rows the anchor flagged (the kept share). */
  anchorRecall: number;
}

export interface BuildGoldenOptions {
  size: number;
  variants: readonly ('A' | 'B')[];
  seed: number;
  /** Model-matrix columns of numeric features (the only ones injection alters). */
  numericColumns: readonly number[];
}

/**
 * Injects `opts.size` anomalies into rows drawn (seeded, with replacement when too few) from the clean
 * matrix and keeps the ones `anchor` flags.
 */
export function buildGoldenSet(
  anchor: MatrixScorer,
  clean: Float32Array,
  cleanRows: number,
  width: number,
  opts: BuildGoldenOptions,
): GoldenSet {
  if (cleanRows === 0 || opts.numericColumns.length === 0) {
    return {
      matrix: new Float32Array(0),
      rows: 0,
      width,
      variants: [...opts.variants],
      injected: 0,
      anchorRecall: 0,
    };
  }
  const rng = new SeededRandom(opts.seed);
  const parts: Float32Array[] = [];
  let injected = 0;
  const perVariant = Math.ceil(opts.size / opts.variants.length);
  for (const variant of opts.variants) {
    const n = Math.min(perVariant, opts.size - injected);
    if (n <= 0) break;
    const base = new Float32Array(n * width);
    for (let r = 0; r < n; r++) {
      const src = rng.int(cleanRows);
      base.set(clean.subarray(src * width, (src + 1) * width), r * width);
    }
    const result = injectAnomalies(base, n, width, {
      variant,
      numericColumns: opts.numericColumns,
      fraction: 1,
      rng,
    });
    parts.push(result.matrix);
    injected += n;
  }
  const all = concat(parts);
  const scores = anchor.scoreMatrix(all, injected, { topK: 0 });
  const keep: number[] = [];
  scores.forEach((s, i) => {
    if (s.isAnomaly) keep.push(i);
  });
  const matrix = new Float32Array(keep.length * width);
  keep.forEach((src, dst) => matrix.set(all.subarray(src * width, (src + 1) * width), dst * width));
  return {
    matrix,
    rows: keep.length,
    width,
    variants: [...opts.variants],
    injected,
    anchorRecall: injected === 0 ? 0 : keep.length / injected,
  };
}

/** Share of the golden set `model` flags; 1 for an empty set (nothing known to lose). */
export function goldenRecall(model: MatrixScorer, golden: GoldenSet): number {
  if (golden.rows === 0) return 1;
  const scores = model.scoreMatrix(golden.matrix, golden.rows, { topK: 0 });
  return scores.filter((s) => s.isAnomaly).length / golden.rows;
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
