/**
 * Threshold policies by kind: fit one from a spec, rebuild one from its JSON, and the spec a user's
 * target false-positive rate means for each kind.
 *
 * | kind         | parameters                 | threshold                                  | p-value                 |
 * | ------------ | -------------------------- | ------------------------------------------ | ----------------------- |
 * | `percentile` | `percentile` (0–100)       | numpy's percentile of the calibration      | none                    |
 * | `spot`       | `q`, `initialLevel`        | (1 − q)-quantile of a GPD tail fit (POT)    | tail probability        |
 * | `conformal`  | `alpha`                    | the order statistic where p ≤ α begins     | split-conformal p-value |
 */
import { z } from 'zod';
import { ConfigError, ModelError } from '../errors.js';
import {
  ConformalPolicy,
  conformalParamsSchema,
  minConformalRows,
  type ConformalParams,
} from './conformal.js';
import { PercentilePolicy, percentileParamsSchema, type PercentileParams } from './percentile-policy.js';
import { SpotPolicy, spotParamsSchema, type SpotParams } from './spot.js';
import { POLICY_KINDS, parseParams, type PolicyJson, type PolicyKind } from './types.js';

export type AnyPolicy = PercentilePolicy | SpotPolicy | ConformalPolicy;

/** A policy's kind and parameters, before fitting (`spot`'s `initialLevel` may be left to its default). */
export type PolicySpec =
  | { kind: 'percentile'; params: PercentileParams }
  | { kind: 'spot'; params: { q: number; initialLevel?: number } }
  | { kind: 'conformal'; params: ConformalParams };

export type AnyPolicyJson =
  | ReturnType<PercentilePolicy['toJSON']>
  | ReturnType<SpotPolicy['toJSON']>
  | ReturnType<ConformalPolicy['toJSON']>;

/** The report's rule: the 95th percentile of the training rows' scores. */
export const REPORT_POLICY: PolicySpec = Object.freeze({
  kind: 'percentile',
  params: Object.freeze({ percentile: 95 }),
}) as PolicySpec;

/**
 * Fits the policy `spec` names on calibration `scores`. Bad parameters: `ConfigError`; unusable scores:
 * `CALIBRATION_FAILED`. `clean`: the scores are known to hold no anomalies (labelled rows), so a policy
 * that sets likely anomalies aside (conformal) keeps them all.
 */
export function fitPolicy(
  spec: PolicySpec,
  scores: ArrayLike<number>,
  reference: string,
  opts: { clean?: boolean } = {},
): AnyPolicy {
  switch (spec.kind) {
    case 'percentile':
      return PercentilePolicy.fit(spec.params, scores, reference);
    case 'spot':
      return SpotPolicy.fit(spec.params, scores, reference);
    case 'conformal':
      return ConformalPolicy.fit(spec.params, scores, reference, opts);
    default:
      throw new ConfigError('unknown threshold policy', [
        { path: 'kind', message: `expected one of ${POLICY_KINDS.join(', ')}` },
      ]);
  }
}

/**
 * Calibration rows to hold out so that `spec` can be fitted: conformal's ⌈1/α⌉ − 1 and a tenth more (the
 * rows it may set aside as likely anomalies); percentile and spot fit on any number (spot falls back to
 * the empirical quantile with few peaks).
 */
export function calibrationRowsFor(spec: PolicySpec): number {
  return spec.kind === 'conformal' ? Math.ceil(1.1 * minConformalRows(spec.params.alpha)) : 0;
}

/** Validates parameters without fitting (for configuration checked at the edge). */
export function validatePolicySpec(spec: PolicySpec): PolicySpec {
  const schema = {
    percentile: percentileParamsSchema,
    spot: spotParamsSchema,
    conformal: conformalParamsSchema,
  };
  if (!(spec.kind in schema)) {
    throw new ConfigError('unknown threshold policy', [
      { path: 'kind', message: `expected one of ${POLICY_KINDS.join(', ')}` },
    ]);
  }
  parseParams(spec.kind, schema[spec.kind], spec.params);
  return spec;
}

const jsonShape = z.object({ kind: z.enum(POLICY_KINDS), params: z.unknown(), state: z.unknown() });

/** Rebuilds a fitted policy from its JSON; anything unusable is `INCOMPATIBLE_MODEL`. */
export function restorePolicy(json: unknown): AnyPolicy {
  const shape = jsonShape.safeParse(json);
  if (!shape.success) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `not a threshold policy: ${shape.error.issues.map((i) => `${i.path.join('.') || 'policy'}: ${i.message}`).join('; ')}`,
    );
  }
  try {
    switch (shape.data.kind) {
      case 'percentile':
        return PercentilePolicy.fromJSON(shape.data);
      case 'spot':
        return SpotPolicy.fromJSON(shape.data);
      case 'conformal':
        return ConformalPolicy.fromJSON(shape.data);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new ModelError(
        'INCOMPATIBLE_MODEL',
        `threshold policy "${shape.data.kind}": ${describeIssues(err)}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

function describeIssues(err: ConfigError): string {
  return err.issues.map((i) => `${i.path}: ${i.message}`).join('; ') || err.message;
}

/**
 * What a target false-positive rate means for each kind: `percentile` at 100·(1 − fpr), `spot` with
 * q = fpr (initial level by default), `conformal` with α = fpr.
 */
export function specForTarget(kind: PolicyKind, targetFpr: number): PolicySpec {
  switch (kind) {
    case 'percentile':
      return { kind, params: { percentile: roundPercent(100 * (1 - targetFpr)) } };
    case 'spot':
      return { kind, params: { q: targetFpr } };
    case 'conformal':
      return { kind, params: { alpha: targetFpr } };
  }
}

/** 100·(1 − 0.01) is 99.00000000000001 in floating point; percentiles are kept to 10 decimals. */
function roundPercent(p: number): number {
  return Math.round(p * 1e10) / 1e10;
}

/** The kind `--target-fpr` alone means: conformal, whose false-positive rate is at most the target. */
export const DEFAULT_POLICY_KIND: PolicyKind = 'conformal';
/** The target `--threshold-policy` alone means. */
export const DEFAULT_TARGET_FPR = 0.01;

/** What a policy is chosen by, on every command line and in every service's settings. */
export interface PolicyChoice {
  thresholdPolicy?: PolicyKind | undefined;
  targetFpr?: number | undefined;
}

/**
 * The spec that `--threshold-policy` / `--target-fpr` choose (either one alone takes the other's
 * default); undefined when neither is set, so the caller's own default (the report's rule) applies.
 */
export function specFromChoice(c: PolicyChoice): PolicySpec | undefined {
  if (c.thresholdPolicy === undefined && c.targetFpr === undefined) return undefined;
  return specForTarget(c.thresholdPolicy ?? DEFAULT_POLICY_KIND, c.targetFpr ?? DEFAULT_TARGET_FPR);
}

/** `--threshold-policy`: one of the kinds. */
export const policyKindOption = z.enum(POLICY_KINDS);

/** `--target-fpr`: a false-positive rate in (0, 0.5), read from text. */
export const targetFprOption = z.coerce
  .number({ error: 'must be a number' })
  .gt(0, 'must be > 0 (a false-positive rate such as 0.01)')
  .lt(0.5, 'must be < 0.5 (a false-positive rate such as 0.01)');

export type { PolicyJson, PolicyKind, SpotParams };
