/** Preprocessing: feature specs, fitting, record → model-row transforms. */
export type {
  CategoricalFeature,
  FeatureDef,
  FeatureSpec,
  FittedPreprocessing,
  ImputePolicy,
  NumericFeature,
  ScalerKind,
} from './spec.js';
export { Preprocessor, UNKNOWN_CATEGORY } from './preprocessor.js';
export { inferFeatureSpec, type InferFeatureSpecOptions } from './infer.js';
export { readCategory, readNumeric, MISSING } from './values.js';
