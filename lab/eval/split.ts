/**
 * The report's train/test split: `train_test_split(X, test_size=0.3, random_state=42)`.
 * As scikit-learn's `ShuffleSplit` does it: the test part has ceil(0.3·n) rows and the training part
 * the rest, taken in that order from `RandomState(seed).permutation(n)` (test first). `Rng` draws
 * numpy's permutation, so with seed 42 these are the report's very rows, in the same order.
 */
import { Rng } from './rng.js';

export interface SplitIndices {
  train: Uint32Array;
  test: Uint32Array;
}

export function trainTestSplit(n: number, testFraction = 0.3, seed = 42): SplitIndices {
  if (!(testFraction > 0 && testFraction < 1))
    throw new RangeError(`test fraction must be in (0, 1), got ${testFraction}`);
  const nTest = Math.ceil(testFraction * n);
  const nTrain = n - nTest;
  if (nTest < 1 || nTrain < 1)
    throw new RangeError(`cannot split ${n} rows into non-empty train and test parts`);
  const perm = new Rng(seed).permutation(n);
  return { test: perm.slice(0, nTest), train: perm.slice(nTest) };
}

/** Picks `indices` out of `items`, in that order. */
export function take<T>(items: readonly T[], indices: ArrayLike<number>): T[] {
  const out = new Array<T>(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = items[indices[i]!]!;
  return out;
}
