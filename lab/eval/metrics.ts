/**
 * Binary classification metrics as scikit-learn computes them for the report
 * (`f1_score(..., average='macro')`, `recall_score(..., average='macro')`): per-class figures for
 * class 0 (normal) and class 1 (anomaly), then their unweighted mean. A class with no predicted
 * (or no true) rows gets precision (or recall) 0, scikit-learn's `zero_division` default.
 *
 * ROC-AUC is the rank statistic (Mann–Whitney U over average ranks, so tied scores count one half);
 * it is `null` when the labels hold one class only.
 */

export interface Confusion {
  /** true negatives: normal rows not flagged */
  tn: number;
  /** false positives: normal rows flagged */
  fp: number;
  /** false negatives: anomalies missed */
  fn: number;
  /** true positives: anomalies flagged */
  tp: number;
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface BinaryMetrics {
  f1Macro: number;
  recallMacro: number;
  precisionMacro: number;
  /** Per class: `normal` is class 0, `anomaly` class 1. */
  perClass: { normal: ClassMetrics; anomaly: ClassMetrics };
  confusion: Confusion;
  /** Share of rows predicted anomalous. */
  flaggedShare: number;
  /** False-positive rate: the share of normal rows flagged, fp / (fp + tn); 0 with no normal rows. */
  fpr: number;
  /** Share of rows labelled anomalous. */
  anomalyShare: number;
  accuracy: number;
}

export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>): Confusion {
  if (labels.length !== predicted.length) {
    throw new RangeError(`labels (${labels.length}) and predictions (${predicted.length}) differ in length`);
  }
  const c: Confusion = { tn: 0, fp: 0, fn: 0, tp: 0 };
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]! ? 1 : 0;
    const p = predicted[i]! ? 1 : 0;
    if (y === 1) {
      if (p === 1) c.tp++;
      else c.fn++;
    } else if (p === 1) c.fp++;
    else c.tn++;
  }
  return c;
}

function classMetrics(tp: number, fp: number, fn: number): ClassMetrics {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, support: tp + fn };
}

export function binaryMetrics(labels: ArrayLike<number>, predicted: ArrayLike<number>): BinaryMetrics {
  const confusion = confusionMatrix(labels, predicted);
  const { tn, fp, fn, tp } = confusion;
  const anomaly = classMetrics(tp, fp, fn);
  // For class 0, "positive" means predicted normal.
  const normal = classMetrics(tn, fn, fp);
  const n = tn + fp + fn + tp;
  return {
    f1Macro: (normal.f1 + anomaly.f1) / 2,
    recallMacro: (normal.recall + anomaly.recall) / 2,
    precisionMacro: (normal.precision + anomaly.precision) / 2,
    perClass: { normal, anomaly },
    confusion,
    flaggedShare: n === 0 ? 0 : (tp + fp) / n,
    fpr: fp + tn === 0 ? 0 : fp / (fp + tn),
    anomalyShare: n === 0 ? 0 : (tp + fn) / n,
    accuracy: n === 0 ? 0 : (tp + tn) / n,
  };
}

/** Area under the ROC curve of `scores` (higher = more anomalous) against 0/1 `labels`; ties averaged. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = labels.length;
  if (scores.length !== n)
    throw new RangeError(`labels (${n}) and scores (${scores.length}) differ in length`);
  let nPos = 0;
  for (let i = 0; i < n; i++) if (labels[i]) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => (scores[a]! as number) - (scores[b]! as number));
  // Sum of the (1-based, tie-averaged) ranks of the positives.
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
    const avgRank = (i + 1 + j) / 2; // mean of ranks i+1 .. j
    for (let k = i; k < j; k++) if (labels[order[k]!]) rankSumPos += avgRank;
    i = j;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Mean and sample standard deviation (n − 1), as reported "mean ± std" over seeds; NaN-free input. */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}
