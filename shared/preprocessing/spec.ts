/**
 * The feature spec: which fields of a record are model features, and how they are prepared.
 * It is part of the model (stored in its manifest), so every service prepares records the same way.
 */

export type ScalerKind = 'none' | 'standard' | 'minmax';

/** What to do with a missing (absent, null, empty) or non-finite numeric value. */
export type ImputePolicy = 'error' | 'mean' | 'zero';

export interface NumericFeature {
  kind: 'numeric';
  /** The record field (Avro field name or CSV column). */
  name: string;
}

export interface CategoricalFeature {
  kind: 'categorical';
  name: string;
  /**
   * Known categories. When the spec is fitted, categories seen in training are recorded here (sorted);
   * a value outside them goes to the extra "unknown" slot of the one-hot block.
   */
  categories?: string[];
}

export type FeatureDef = NumericFeature | CategoricalFeature;

export interface FeatureSpec {
  features: FeatureDef[];
  scaler: ScalerKind;
  impute: ImputePolicy;
}

/** Fitted parameters, one entry per model column (after one-hot expansion), in column order. */
export interface FittedPreprocessing {
  spec: FeatureSpec;
  /** Model column names: `x1`, or `color=red` / `color=<unknown>` for one-hot slots. */
  columns: string[];
  /** Per-column offset and scale: model value = (raw - offset) / scale. */
  offset: number[];
  scale: number[];
  /** Per numeric feature, the training mean of the raw value (used by `impute: 'mean'`). */
  means: Record<string, number>;
}
