/**
 * The evaluation's seeded random stream: numpy's legacy `RandomState`, draw for draw.
 *
 * The report fixes its split with `train_test_split(..., random_state=42)` and its injection and
 * support rows with `np.random.seed(42)`. Reproducing numpy's generator (MT19937 seeded by
 * `init_genrand`) and the legacy algorithms built on it (`random_sample`, `uniform`, `permutation`
 * through the bounded `random_interval`, `choice(n, k, replace=False)` as `permutation(n)[:k]`) makes
 * the split, the injected rows, their features and factors, and the support rows the very ones the
 * report's Python draws — so a comparison with it differs only in training, not in which rows are
 * tested. (Checked against numpy in `test/unit/eval/rng.test.ts`.)
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class Rng {
  private readonly mt = new Uint32Array(N);
  private index = N;

  /** `np.random.seed(seed)` / `RandomState(seed)`: an integer in [0, 2³² − 1]. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let k = 0; k < N; k++) {
      const y = (mt[k]! & UPPER) | (mt[(k + 1) % N]! & LOWER);
      mt[k] = mt[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }

  /** The next 32-bit output of MT19937. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random_sample()`: a double in [0, 1) from 53 bits of two outputs. */
  next(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `uniform(low, high)`: `low + (high − low)·random_sample()`. */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** numpy's `random_interval(max)`: uniform in [0, max] by masked rejection (max < 2³²). */
  interval(max: number): number {
    if (max === 0) return 0;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffffff)
      throw new RangeError(`bad interval bound ${max}`);
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= max) return v;
    }
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
    return this.interval(n - 1);
  }

  /** `permutation(n)`: `arange(n)` shuffled by the legacy Fisher–Yates (from the end). */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** `choice(n, k, replace=False)`: the first `k` of `permutation(n)`, as legacy numpy draws them. */
  choice(n: number, k: number): number[] {
    if (!Number.isInteger(k) || k > n || k < 0)
      throw new RangeError(`cannot choose ${k} distinct values from ${n}`);
    return Array.from(this.permutation(n).subarray(0, k));
  }
}
