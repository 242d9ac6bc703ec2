/**
 * The pure logic of the training options that make the network stable on real, contaminated data
 * (`FitOptions` in `autoencoder.ts` applies them):
 *
 * - **dead ReLU units**: a unit whose output is 0 for every training row never learns again (its
 *   gradient is 0); for d ≤ 17 the bottleneck has 2 units and often dies (`REFERENCE.md`). `deadUnits`
 *   finds them from the layer's largest activation per unit; the network re-draws their incoming weights.
 * - **trimmed loss**: after a warm-up, each batch ignores its highest-loss share of rows, so the
 *   anomalies hiding in an unlabelled training set pull the network less. `trimKeepCount` says how many
 *   rows a batch keeps.
 * - **early stopping**: `EarlyStopping` watches a validation loss and says when it stopped improving.
 */

/**
 * Indices of the units whose largest activation over the rows is not positive (a ReLU unit that never
 * fires). `maxActivation[j]` is unit j's largest output over the rows seen.
 */
export function deadUnits(maxActivation: ArrayLike<number>): number[] {
  const dead: number[] = [];
  for (let j = 0; j < maxActivation.length; j++) if (!(maxActivation[j]! > 0)) dead.push(j);
  return dead;
}

/**
 * Rows a batch of `rows` keeps when it drops its `trimFraction` highest-loss share: at least one, and
 * all of them when the fraction is 0.
 */
export function trimKeepCount(rows: number, trimFraction: number): number {
  if (!(trimFraction >= 0 && trimFraction < 1)) {
    throw new RangeError(`trim fraction must be in [0, 1), got ${trimFraction}`);
  }
  return Math.max(1, Math.min(rows, Math.ceil(rows * (1 - trimFraction))));
}

/**
 * The trimmed mean of per-row losses: the mean of the `trimKeepCount` smallest (what a trimmed batch
 * minimises; the network computes the same with tensors).
 */
export function trimmedMean(rowLosses: ArrayLike<number>, trimFraction: number): number {
  const keep = trimKeepCount(rowLosses.length, trimFraction);
  const sorted = Float64Array.from(rowLosses as ArrayLike<number>).sort();
  let s = 0;
  for (let i = 0; i < keep; i++) s += sorted[i]!;
  return s / keep;
}

/**
 * Early stopping on a validation loss: an epoch improves when its loss is below the best so far by more
 * than `minDelta` (relative); training stops after `patience` epochs without improvement, and the
 * weights of the best epoch are the ones to keep.
 */
export class EarlyStopping {
  best = Number.POSITIVE_INFINITY;
  bestEpoch = 0;
  private waited = 0;

  constructor(
    readonly patience: number,
    readonly minDelta = 1e-3,
  ) {
    if (!Number.isInteger(patience) || patience < 1) {
      throw new RangeError(`patience must be an integer >= 1, got ${patience}`);
    }
  }

  /** Records an epoch's validation loss; `improved` means keep these weights, `stop` means stop now. */
  update(epoch: number, loss: number): { improved: boolean; stop: boolean } {
    if (Number.isFinite(loss) && loss < this.best * (1 - this.minDelta)) {
      this.best = loss;
      this.bestEpoch = epoch;
      this.waited = 0;
      return { improved: true, stop: false };
    }
    this.waited += 1;
    return { improved: false, stop: this.waited >= this.patience };
  }
}
