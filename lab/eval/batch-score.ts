/**
 * Offline batch scoring of a table with a `Detector`: rows are prepared and scored in chunks (one
 * tensor per chunk, so memory stays bounded on large files), and a row that cannot be prepared is
 * reported with its error rather than aborting the batch.
 */
import type { DataRow } from '../../shared/data/csv.js';
import type { Contribution, Detector } from '../../shared/model/index.js';

export interface ScoredRow {
  /** 1-based data row number (the header is not counted). */
  row: number;
  mse: number | null;
  flag: boolean | null;
  /** Top contributing features (largest share of the row's squared error first). */
  top: Contribution[];
  /** `CODE: message` when the row could not be prepared. */
  error: string | null;
}

export interface ScoreTableOptions {
  topK?: number;
  chunkRows?: number;
}

export function scoreTable(
  detector: Detector,
  rows: readonly DataRow[],
  opts: ScoreTableOptions = {},
): ScoredRow[] {
  const topK = opts.topK ?? 3;
  const chunk = Math.max(1, opts.chunkRows ?? 8192);
  const out: ScoredRow[] = new Array<ScoredRow>(rows.length);
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.slice(start, start + chunk);
    const prepared = detector.prepare(part);
    for (const e of prepared.errors) {
      out[start + e.index] = {
        row: start + e.index + 1,
        mse: null,
        flag: null,
        top: [],
        error: `${e.error.code}: ${e.error.message}`,
      };
    }
    if (prepared.rows > 0) {
      const scores = detector.scoreMatrix(prepared.matrix, prepared.rows, { topK, explainAll: topK > 0 });
      scores.forEach((s, i) => {
        const idx = start + prepared.index[i]!;
        out[idx] = {
          row: idx + 1,
          mse: s.score,
          flag: s.isAnomaly,
          top: s.contributions.slice(0, topK),
          error: null,
        };
      });
    }
  }
  return out;
}
