/**
 * Ranking quality beside ROC-AUC (`metrics.ts`): average precision, as scikit-learn's
 * `average_precision_score` defines it — Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct score thresholds, highest
 * first, tied scores taken together (no interpolation).
 */

/** Average precision of `scores` (higher = more anomalous) against 0/1 `labels`; NaN without positives. */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  if (scores.length !== n)
    throw new RangeError(`labels (${n}) and scores (${scores.length}) differ in length`);
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i]) positives++;
  if (positives === 0) return Number.NaN;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (scores[b] as number) - (scores[a] as number),
  );
  let tp = 0;
  let ap = 0;
  let lastRecall = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j < n && scores[order[j]!] === scores[order[i]!]) {
      if (labels[order[j]!]) tp++;
      j++;
    }
    const recall = tp / positives;
    ap += (recall - lastRecall) * (tp / j);
    lastRecall = recall;
    i = j;
  }
  return ap;
}
