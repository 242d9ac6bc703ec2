/**
 * A tiny stand-in for `Detector` in batch-logic tests: features are numeric fields used as they are,
 * the "reconstruction" is all zeros, so a row's score is the mean of its squared values and the
 * contributions are each column's share of that. Bad values fail the way the real preprocessing does.
 */
import { InputError } from '../../../shared/errors.js';
import type { Score, PreparedBatch, ScoringModel } from '../../../shared/scoring/model.js';

export class FakeModel implements ScoringModel {
  disposed = false;
  prepareCalls = 0;
  scoreCalls: number[] = [];

  constructor(
    readonly version: number | null,
    readonly columns: string[],
    readonly threshold: number,
  ) {}

  prepare(records: readonly Record<string, unknown>[]): PreparedBatch {
    this.prepareCalls++;
    const width = this.columns.length;
    const matrix = new Float32Array(records.length * width);
    const index: number[] = [];
    const errors: PreparedBatch['errors'] = [];
    let row = 0;
    records.forEach((rec, i) => {
      try {
        this.columns.forEach((c, j) => {
          const v = rec[c];
          if (v === undefined || v === null) {
            throw new InputError('MISSING_FIELD', `field ${c} is missing`, { field: c });
          }
          if (typeof v !== 'number')
            throw new InputError('WRONG_TYPE', `field ${c} is not a number`, { field: c });
          if (!Number.isFinite(v))
            throw new InputError('NON_FINITE_VALUE', `field ${c} is ${v}`, { field: c });
          matrix[row * width + j] = v;
        });
        index.push(i);
        row++;
      } catch (err) {
        errors.push({ index: i, error: err as InputError });
      }
    });
    return { matrix: matrix.subarray(0, row * width), rows: row, index, errors };
  }

  scoreMatrix(matrix: Float32Array, rows: number, opts: { topK?: number } = {}): Score[] {
    this.scoreCalls.push(rows);
    const width = this.columns.length;
    const out: Score[] = [];
    for (let r = 0; r < rows; r++) {
      const sq = this.columns.map((_, j) => matrix[r * width + j]! ** 2);
      const total = sq.reduce((a, b) => a + b, 0);
      const score = total / width;
      const isAnomaly = score > this.threshold;
      const contributions = isAnomaly
        ? this.columns
            .map((feature, j) => ({
              feature,
              value: matrix[r * width + j]!,
              expected: 0,
              share: total > 0 ? sq[j]! / total : 0,
            }))
            .sort((a, b) => b.share - a.share)
            .slice(0, opts.topK ?? 3)
        : [];
      out.push({
        score,
        isAnomaly,
        threshold: this.threshold,
        pValue: null,
        modelVersion: this.version,
        contributions,
      });
    }
    return out;
  }

  dispose(): void {
    this.disposed = true;
  }
}
