/**
 * What the batch scorer needs from a model: the subset of `shared/model`'s `Detector` used here.
 * Kept structural so the batch logic can be tested with a tiny fake, and so that the scorer depends on
 * the detector's behaviour, not on how it is built.
 */
import type { InputError } from '../errors.js';

export interface ScoreContribution {
  /** Model column name (`amount`, `channel=web`). */
  feature: string;
  /** The record's value, raw units. */
  value: number;
  /** The reconstruction, raw units. */
  expected: number;
  /** Share of the row's squared error (0..1). */
  share: number;
}

export interface ModelScore {
  score: number;
  isAnomaly: boolean;
  threshold: number;
  /** The threshold policy's p-value or tail probability, where it has one. */
  pValue?: number | null;
  modelVersion: number | null;
  contributions: ScoreContribution[];
}

export interface PreparedBatch {
  matrix: Float32Array;
  rows: number;
  /** For each matrix row, the index of its record in the input. */
  index: number[];
  errors: { index: number; error: InputError }[];
}

export interface ScoringModel {
  readonly version: number | null;
  /** The threshold policy the model classifies with (its kind goes into flags and scores). */
  readonly policy?: { readonly kind: string };
  /** Prepares records into one matrix; bad records are reported, never thrown. */
  prepare(records: readonly Record<string, unknown>[]): PreparedBatch;
  /** Scores the matrix as one tensor; contributions for flagged rows (all rows with explainAll). */
  scoreMatrix(
    matrix: Float32Array,
    rows: number,
    opts?: { topK?: number; explainAll?: boolean },
  ): ModelScore[];
  dispose(): void;
}
