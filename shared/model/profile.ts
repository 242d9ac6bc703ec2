/**
 * Model profiles: named, complete training-and-scoring settings, so one word (`--profile`) chooses how
 * a detector is built, and the manifest records which one built it.
 *
 * - `report`: exactly the report's seed — one network, min-max scaling, 30 epochs on every training
 *   row, the raw reconstruction MSE as the score, the threshold at the 95th percentile of the training
 *   rows' MSE.
 * - `default`: what production uses, chosen once by measurement on all the public labelled sets together
 *   (`npm run bench:quality`, docs/RESULTS.md) and never tuned per data set: an ensemble of 8 networks of
 *   the report's architecture, each on its own seed and half of the fitting rows, at most 20 epochs with
 *   early stopping on its unused rows, each batch ignoring its 10 % highest-loss rows after 2 epochs; 20 % of the training rows are held out
 *   for calibration (never fitted on): the robust residual score (per-feature residuals in units of
 *   their median/MAD on those rows) of each member, normalised on those rows, then averaged; the
 *   threshold is the default policy (conformal) at the default target false-positive rate (1 %).
 */
import { ConfigError } from '../errors.js';
import type { ScalerKind } from '../preprocessing/spec.js';
import {
  DEFAULT_POLICY_KIND,
  DEFAULT_TARGET_FPR,
  REPORT_POLICY,
  specForTarget,
  validatePolicySpec,
  type PolicySpec,
} from '../threshold/policy.js';

export const PROFILE_NAMES = ['default', 'report'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
export const DEFAULT_PROFILE: ProfileName = 'default';

/** `mse`: the report's per-row mean squared error; `robust-residual` and `robust-tail`: see `ensemble.ts`. */
export type ScoreKind = 'mse' | 'robust-residual' | 'robust-tail';

export interface ProfileSettings {
  name: ProfileName;
  /** The numeric scaler of an inferred feature spec when the caller names none (`--scale`, a feature spec). */
  scale: ScalerKind;
  /** Networks in the ensemble (1: a single network). */
  members: number;
  /** Share of the fitting rows each member trains on (1: all; members then differ by seed only). */
  subsample: number;
  /** Epochs per member (an upper bound with early stopping). */
  epochs: number;
  /** Early stopping on each member's unused fitting rows (needs `subsample` < 1), with this patience. */
  patience: number | null;
  /** Share of each batch's highest-loss rows ignored after a 2-epoch warm-up (0: off). */
  trimFraction: number;
  reviveDeadUnits: boolean;
  score: ScoreKind;
  /**
   * Share of the training rows held out for calibration (score statistics and threshold); 0 means the
   * threshold is taken on the training rows, as the report does.
   */
  calibrationFraction: number;
  /** The threshold policy fitted on the calibration (or, without calibration rows, training) scores. */
  threshold: PolicySpec;
}

export const PROFILES: Readonly<Record<ProfileName, Readonly<ProfileSettings>>> = Object.freeze({
  report: Object.freeze({
    name: 'report',
    scale: 'minmax',
    members: 1,
    subsample: 1,
    epochs: 30,
    patience: null,
    trimFraction: 0,
    reviveDeadUnits: false,
    score: 'mse',
    calibrationFraction: 0,
    threshold: REPORT_POLICY,
  }),
  default: Object.freeze({
    name: 'default',
    scale: 'minmax',
    members: 8,
    subsample: 0.5,
    epochs: 20,
    patience: 3,
    trimFraction: 0.1,
    reviveDeadUnits: false,
    score: 'robust-tail',
    calibrationFraction: 0.2,
    threshold: specForTarget(DEFAULT_POLICY_KIND, DEFAULT_TARGET_FPR),
  }),
});

/** The settings of a profile, with `overrides` applied (each override is a measurable option). */
export function profileSettings(
  name: string = DEFAULT_PROFILE,
  overrides: Partial<Omit<ProfileSettings, 'name'>> = {},
): ProfileSettings {
  if (!(PROFILE_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError('invalid option', [
      { path: 'profile', message: `expected one of ${PROFILE_NAMES.join(', ')} (got "${name}")` },
    ]);
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const s = { ...PROFILES[name as ProfileName], ...defined } as ProfileSettings;
  checkSettings(s);
  return s;
}

function checkSettings(s: ProfileSettings): void {
  const issues: { path: string; message: string }[] = [];
  if (!Number.isInteger(s.members) || s.members < 1) issues.push({ path: 'members', message: 'must be ≥ 1' });
  if (!(s.subsample > 0 && s.subsample <= 1))
    issues.push({ path: 'subsample', message: 'must be in (0, 1]' });
  if (!Number.isInteger(s.epochs) || s.epochs < 1) issues.push({ path: 'epochs', message: 'must be ≥ 1' });
  if (s.patience !== null && !(Number.isInteger(s.patience) && s.patience >= 1))
    issues.push({ path: 'patience', message: 'must be ≥ 1' });
  if (!(s.trimFraction >= 0 && s.trimFraction < 1))
    issues.push({ path: 'trimFraction', message: 'must be in [0, 1)' });
  if (!(s.calibrationFraction >= 0 && s.calibrationFraction < 1))
    issues.push({ path: 'calibrationFraction', message: 'must be in [0, 1)' });
  if (s.score !== 'mse' && s.calibrationFraction === 0)
    issues.push({ path: 'calibrationFraction', message: 'the robust score needs calibration rows' });
  validatePolicySpec(s.threshold);
  if (issues.length > 0) throw new ConfigError('invalid profile settings', issues);
}
