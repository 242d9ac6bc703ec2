/** Seeded samples with known quantiles, for the threshold policies' tests. */
import { createRng } from '../../../shared/model/random.js';

/** Exponential(1): P(X > x) = e^(−x), so the (1 − q)-quantile is −ln q. */
export function exponential(n: number, seed: number): Float64Array {
  const r = createRng(seed);
  return Float64Array.from({ length: n }, () => -Math.log(1 - r.next()));
}

/** Pareto(α, x_m = 1): P(X > x) = x^(−α), so the (1 − q)-quantile is q^(−1/α); excesses are GPD with ξ = 1/α. */
export function pareto(n: number, alpha: number, seed: number): Float64Array {
  const r = createRng(seed);
  return Float64Array.from({ length: n }, () => Math.pow(1 - r.next(), -1 / alpha));
}

/** Uniform(0, 1). */
export function uniform(n: number, seed: number): Float64Array {
  const r = createRng(seed);
  return Float64Array.from({ length: n }, () => r.next());
}
