export { percentile, thresholdInterval } from './percentile.js';
export {
  POLICY_KINDS,
  type Classification,
  type CommonState,
  type PolicyKind,
  type PolicyJson,
  type ThresholdPolicy,
} from './types.js';
export {
  REPORT_POLICY,
  DEFAULT_POLICY_KIND,
  DEFAULT_TARGET_FPR,
  specFromChoice,
  type PolicyChoice,
  fitPolicy,
  restorePolicy,
  specForTarget,
  validatePolicySpec,
  policyKindOption,
  targetFprOption,
  type AnyPolicy,
  type AnyPolicyJson,
  type PolicySpec,
  calibrationRowsFor,
} from './policy.js';
export { PercentilePolicy, type PercentileParams } from './percentile-policy.js';
export { SpotPolicy, MIN_PEAKS, defaultInitialLevel, type SpotParams, type SpotState } from './spot.js';
export { ConformalPolicy, minConformalRows, type ConformalParams, type ConformalState } from './conformal.js';
export { fitGpd, gpdSurvival, gpdExcessQuantile, gpdLogLikelihood, type GpdFit } from './gpd.js';
export { thresholdInfoOf, thresholdPolicyOf, describeThreshold } from './manifest.js';
export {
  calibrationSplit,
  takeRows,
  DEFAULT_CALIBRATION_FRACTION,
  type CalibrationSplit,
} from './holdout.js';
