/**
 * Seeded draws the generator needs beyond uniform numbers: Gaussians and weighted picks.
 *
 * Built on the project's one seeded generator (`shared/eval/rng.ts`), so a seed means the same thing
 * everywhere. Each concern of the generator (entities, normal events, injected anomalies) gets its own
 * stream derived from the run's seed, so changing the anomaly share leaves the normal events untouched.
 */
import { Rng } from '../eval/rng.js';

export class Draws {
  private readonly rng: Rng;
  private spare: number | null = null;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.rng.next();
  }

  uniform(low: number, high: number): number {
    return this.rng.uniform(low, high);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return this.rng.int(n);
  }

  /** `k` distinct integers from [0, n). */
  choice(n: number, k: number): number[] {
    return this.rng.choice(n, k);
  }

  /** A standard normal draw (Marsaglia's polar method; the second value is kept for the next call). */
  normal(mean = 0, sd = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + sd * z;
    }
    for (;;) {
      const u = 2 * this.rng.next() - 1;
      const v = 2 * this.rng.next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        return mean + sd * u * f;
      }
    }
  }

  /** An index drawn with probability proportional to `cumulative[i] - cumulative[i-1]` (binary search). */
  pickCumulative(cumulative: Float64Array): number {
    const total = cumulative[cumulative.length - 1]!;
    const u = this.rng.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Derives an independent 32-bit seed for one concern of a run (`stream` names it). */
export function deriveSeed(seed: number, stream: string): number {
  // FNV-1a over the stream name, mixed with the seed: cheap, stable across platforms.
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < stream.length; i++) {
    h ^= stream.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= Math.imul(seed >>> 0, 0x9e3779b1) >>> 0;
  return h >>> 0;
}
