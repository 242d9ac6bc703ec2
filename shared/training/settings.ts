/**
 * Training settings as a user gives them (`smae train` flags, the trainer service's `SMAE_*`
 * settings), mapped to the trainer core's options in one place, so both entry points train the same
 * model from the same settings.
 */
import type { BackendName } from '../model/backend.js';
import type { FeatureSpec, ImputePolicy, ScalerKind } from '../preprocessing/spec.js';
import { specFromChoice, type PolicyKind } from '../threshold/policy.js';
import type { TrainJobOptions } from './job.js';
import { DEFAULT_PROFILE, type ProfileName } from '../model/profile.js';
import type { ColumnFilter } from './rows.js';

export interface TrainingSettings {
  labelColumn: string;
  exclude: string[];
  /** Empty: every feature's kind is inferred. */
  categorical: string[];
  /** Absent: the profile's scaler (`ProfileSettings.scale`). */
  scale?: ScalerKind;
  impute: ImputePolicy;
  epochs: number;
  batchSize: number;
  learningRate?: number;
  /** The report's rule: this percentile of the training rows' scores, unless a policy is chosen. */
  percentile: number;
  /** A threshold policy fitted on held-out calibration rows (either one alone takes the other's default). */
  thresholdPolicy?: PolicyKind;
  targetFpr?: number;
  seed?: number;
  backend: BackendName | 'auto';
  /** A feature spec (features.json): its columns and kinds, scaler and imputation replace the inferred ones. */
  featureSpec?: FeatureSpec;
  /** The model profile (`default` unless told otherwise); `epochs` and `percentile` apply to `report`. */
  profile?: ProfileName;
}

/**
 * The trainer core's options for these settings. Unset optional settings stay absent (not
 * `undefined`), so the core's own defaults apply and the job crosses into the worker unchanged.
 */
export function trainingOptions(s: TrainingSettings): TrainJobOptions & ColumnFilter {
  return {
    ...(s.labelColumn ? { labelColumn: s.labelColumn } : {}),
    exclude: s.exclude,
    ...(s.categorical.length > 0 ? { categorical: s.categorical } : {}),
    ...(s.scale !== undefined ? { scaler: s.scale } : {}),
    impute: s.impute,
    epochs: s.epochs,
    batchSize: s.batchSize,
    ...(s.learningRate !== undefined ? { learningRate: s.learningRate } : {}),
    percentile: s.percentile,
    ...thresholdOption(s),
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    backend: s.backend,
    ...(s.featureSpec !== undefined
      ? { spec: s.featureSpec, columns: s.featureSpec.features.map((f) => f.name) }
      : {}),
    profile: s.profile ?? DEFAULT_PROFILE,
  };
}

/** A chosen policy replaces the percentile rule (`threshold`); none leaves the option absent. */
function thresholdOption(s: TrainingSettings): Pick<TrainJobOptions, 'threshold'> {
  const spec = specFromChoice(s);
  return spec === undefined ? {} : { threshold: spec };
}
