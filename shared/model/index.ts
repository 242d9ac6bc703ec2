/**
 * The model library's public API: what trainer, scorer, adapter and the CLI import.
 * See each module for the why; CONTRACTS.md for the agreed signatures.
 */
export {
  initBackend,
  activeBackend,
  BACKEND_NAMES,
  type BackendName,
  type InitBackendOptions,
} from './backend.js';
export {
  architectureFor,
  weightShapesFor,
  parameterCount,
  validateArchitecture,
  DEFAULT_L1_ACTIVITY,
} from './architecture.js';
export {
  SparseAutoencoder,
  DEFAULT_FIT_OPTIONS,
  DEFAULT_ADAPT_OPTIONS,
  type FitOptions,
  type FitResult,
  type EpochProgress,
  type AdaptOptions,
  type ReconstructionErrors,
  type LossBreakdown,
} from './autoencoder.js';
export {
  Detector,
  DEFAULT_TOP_K,
  type Contribution,
  type Score,
  type ScoreOptions,
  type PreparedBatch,
} from './detector.js';
export {
  trainDetector,
  adaptDetector,
  type TrainDetectorOptions,
  type AdaptDetectorOptions,
  type ModelRows,
  type RowsInput,
} from './training.js';
export * from './artifact.js';
export {
  Preprocessor,
  inferFeatureSpec,
  UNKNOWN_CATEGORY,
  type InferFeatureSpecOptions,
  type FeatureSpec,
  type FeatureDef,
  type NumericFeature,
  type CategoricalFeature,
  type FittedPreprocessing,
  type ScalerKind,
  type ImputePolicy,
} from '../preprocessing/index.js';
export { percentile } from '../threshold/percentile.js';
