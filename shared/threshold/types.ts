/**
 * What every threshold policy is: an object of its own, apart from the detector (as River's thresholders
 * and Alibi Detect's `infer_threshold` are). A policy is fitted on calibration scores, decides
 * `score > threshold`, may say how surprising a score is (a p-value or a tail probability), serialises to
 * plain JSON (kind + parameters + fitted state) and is refitted on new calibration scores.
 */
import { z } from 'zod';
import { ConfigError, ModelError } from '../errors.js';

export const POLICY_KINDS = ['percentile', 'spot', 'conformal'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export interface Classification {
  /** `score > threshold`: strictly greater, as in the report (a score equal to the threshold is normal). */
  flagged: boolean;
  threshold: number;
  /**
   * How probable a score at least this high is under the calibration scores: the conformal p-value, or
   * SPOT's tail probability from its generalised Pareto fit (for scores above its initial threshold).
   * `null` where the policy has none (percentile; SPOT below its initial threshold).
   */
  pValue: number | null;
}

/** Fitted state every policy has. */
export interface CommonState {
  /** The decision value: a score strictly greater is flagged. */
  threshold: number;
  /** Which scores it was fitted on, e.g. `calibration`, `training`, `reference-window`. */
  reference: string;
  /** How many scores it was fitted on. */
  referenceRows: number;
}

/** A policy as JSON: what it is, how it was configured, and what it learnt. */
export interface PolicyJson<K extends PolicyKind = PolicyKind, P = unknown, S = unknown> {
  kind: K;
  params: P;
  state: CommonState & S;
}

/** A policy before fitting: its kind and parameters. */
export interface PolicySpec<K extends PolicyKind = PolicyKind, P = unknown> {
  kind: K;
  params: P;
}

export interface ThresholdPolicy<K extends PolicyKind = PolicyKind, P = unknown, S = unknown> {
  readonly kind: K;
  readonly params: Readonly<P>;
  readonly state: Readonly<CommonState & S>;
  /** Shorthand for `state.threshold`. */
  readonly threshold: number;
  /** The false-positive rate the policy aims at on scores exchangeable with its calibration scores. */
  readonly targetFpr: number;
  /**
   * Whether fitting sets aside likely anomalies among the calibration scores itself (`conformal`:
   * `withoutContamination`). The adapter then refits it over a wider margin of the parent's threshold
   * (`reference.anomalyPolicyMargin`).
   */
  readonly setsAsideAnomalies: boolean;
  classify(score: number): Classification;
  /** The same kind and parameters, fitted on other scores (the adapter refits after each adaptation). */
  refit(scores: ArrayLike<number>, reference: string): ThresholdPolicy<K, P, S>;
  toJSON(): PolicyJson<K, P, S>;
  /** One line for people: `spot q=0.01 (GPD ξ=0.12) of 4000 calibration scores`. */
  describe(): string;
}

export const commonStateSchema = z.object({
  threshold: z.number().refine(Number.isFinite, 'must be finite'),
  reference: z.string().min(1),
  referenceRows: z.number().int().min(1),
});

/** A probability strictly between 0 and 1. */
export const openUnit = (name: string) =>
  z
    .number({ error: `${name} must be a number` })
    .gt(0, `${name} must be > 0`)
    .lt(1, `${name} must be < 1`);

/** Validates fitted state read back from JSON; a bad one is an unusable model (`INCOMPATIBLE_MODEL`). */
export function parseState<S extends z.ZodType>(kind: PolicyKind, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ModelError(
    'INCOMPATIBLE_MODEL',
    `threshold policy "${kind}" has unusable fitted state: ` +
      parsed.error.issues.map((i) => `${i.path.join('.') || 'state'}: ${i.message}`).join('; '),
  );
}

/** Validates parameters; bad ones are a `ConfigError` naming each (`spot.q: must be < 1`). */
export function parseParams<S extends z.ZodType>(kind: PolicyKind, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    `invalid parameters for the ${kind} threshold policy`,
    parsed.error.issues.map((i) => ({ path: [kind, ...i.path].join('.'), message: i.message })),
  );
}
