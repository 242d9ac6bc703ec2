/** Small deterministic data for the model tests: rows on a 2-factor manifold, plus noise. */
import { createRng } from '../../../shared/random.js';

/** `rows × d` row-major matrix in roughly [0, 1], low rank, so an autoencoder can learn it. */
export function lowRankMatrix(rows: number, d: number, seed = 1): Float32Array {
  const rng = createRng(seed, 99);
  const mix = Array.from({ length: d }, () => [rng.next(), rng.next()]);
  const out = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const u = rng.next();
    const v = rng.next();
    for (let j = 0; j < d; j++)
      out[i * d + j] = 0.5 * (mix[j]![0]! * u + mix[j]![1]! * v) + 0.02 * rng.next();
  }
  return out;
}

/** Records with numeric fields x1..x5 (raw units around 10–100) and a categorical `site`. */
export function syntheticRecords(rows: number, seed = 1): Record<string, unknown>[] {
  const m = lowRankMatrix(rows, 5, seed);
  const sites = ['north', 'south', 'east'];
  return Array.from({ length: rows }, (_, i) => ({
    x1: 10 + 90 * m[i * 5]!,
    x2: 10 + 90 * m[i * 5 + 1]!,
    x3: 10 + 90 * m[i * 5 + 2]!,
    x4: 10 + 90 * m[i * 5 + 3]!,
    x5: String(10 + 90 * m[i * 5 + 4]!),
    site: sites[i % 3],
  }));
}
