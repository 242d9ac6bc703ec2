/**
 * The project's one seeded generator: sfc32 (Chris Doty-Humphrey's small fast counting generator),
 * seeded through splitmix32. Independent of the tfjs backend, so a seed gives the same initial weights,
 * shuffles, support-set draws and generated streams on cpu, wasm and tensorflow.
 *
 * (The offline reproduction of the report draws its split and injections exactly as numpy's
 * `RandomState` does; that Mersenne Twister lives with the lab's evaluation, not here.)
 */
import { randomInt } from 'node:crypto';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/** A fresh 32-bit seed, for runs that were not given one (the seed used is still recorded). */
export function randomSeed(): number {
  return randomInt(0, 2 ** 32);
}

/** An independent 32-bit seed for one concern of a run (`stream` names it): FNV-1a mixed with the seed. */
export function deriveSeed(seed: number, stream: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < stream.length; i++) {
    h ^= stream.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= Math.imul(seed >>> 0, 0x9e3779b1) >>> 0;
  return h >>> 0;
}

export class SeededRandom implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  /** `seed`: any finite number (integers up to 2^53 keep all their bits); `stream`: an independent sequence. */
  constructor(seed: number, stream = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    const lo = Math.trunc(seed) >>> 0;
    const hi = Math.trunc(seed / 2 ** 32) >>> 0;
    let s = (lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1), 32 random bits. */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** `k` distinct integers from [0, n), in draw order (sparse partial Fisher–Yates). */
  choice(n: number, k: number): number[] {
    if (k > n || k < 0) throw new RangeError(`cannot choose ${k} distinct values from ${n}`);
    const swapped = new Map<number, number>();
    const out: number[] = new Array<number>(k);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const vj = swapped.get(j) ?? j;
      swapped.set(j, swapped.get(i) ?? i);
      out[i] = vj;
    }
    return out;
  }

  /** A normal draw (Marsaglia's polar method; the second value is kept for the next call). */
  normal(mean = 0, sd = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + sd * z;
    }
    for (;;) {
      const u = 2 * this.next() - 1;
      const v = 2 * this.next() - 1;
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
    const u = this.next() * total;
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

/** The generator for `seed` and a stream id. */
export function createRng(seed: number, stream = 0): SeededRandom {
  return new SeededRandom(seed, stream);
}

/** Fisher–Yates, in place. */
export function shuffleInPlace(values: Int32Array, rng: Rng): Int32Array {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
  return values;
}
