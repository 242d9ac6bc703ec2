/**
 * What the batch scorer needs from a model: the subset of `shared/model`'s `Detector` used here.
 * Kept structural so the batch logic can be tested with a tiny fake, and so that the scorer depends on
 * the detector's behaviour, not on how it is built.
 */
import type { Contribution, PreparedBatch, Score } from '../model/detector.js';

export type { Contribution, PreparedBatch, Score };

export interface ScoringModel {
  readonly version: number | null;
  /** The threshold policy the model classifies with (its kind goes into flags and scores). */
  readonly policy?: { readonly kind: string };
  /** Prepares records into one matrix; bad records are reported, never thrown. */
  prepare(records: readonly Record<string, unknown>[]): PreparedBatch;
  /** Scores the matrix as one tensor; contributions for flagged rows (all rows with explainAll). */
  scoreMatrix(matrix: Float32Array, rows: number, opts?: { topK?: number; explainAll?: boolean }): Score[];
  dispose(): void;
}
