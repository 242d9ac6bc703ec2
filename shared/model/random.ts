/**
 * Seeded randomness for initialisation and shuffling, independent of the tfjs backend (so a seed gives the
 * same weights on cpu, wasm and tensorflow). sfc32, seeded through splitmix32: small, fast, well-mixed.
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

/** A generator for `seed` (any finite number; integers up to 2^53 keep all their bits) and a stream id. */
export function createRng(seed: number, stream = 0): Rng {
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
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return { next };
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
