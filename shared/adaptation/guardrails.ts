/**
 * Guardrails: the checks an adapted model must pass before it is published. Each is a configurable
 * bound with a stable reason code (metrics label refusals by it, logs name it).
 *
 * Two families, answering two different threats:
 * - *Before* the steps: is this window drift at all? Too few rows say nothing; a window the current
 *   model mostly flags is an incident or an attack, which adaptation would learn as normal.
 * - *After* the steps: did the model move too far? Per cycle (threshold ratio, relative weight change
 *   against the parent) catches a single bad window; cumulatively against a frozen anchor (the last
 *   trainer-published version) catches a slow poisoning that stays under every per-cycle bound; the
 *   golden set of known anomalies checks the one thing that must not be lost: catching them.
 */
import type { GuardrailBounds } from './config.js';

export const REFUSAL_REASONS = [
  'no-model', // no current model to adapt
  'too-few-rows', // window, support set or threshold reference below its minimum
  'stale-window', // too few rows arrived since the window the parent was adapted on
  'flagged-share', // the current model flags too much of the window: incident or attack, not drift
  'non-finite', // the steps produced a non-finite loss, weight or threshold
  'threshold-step', // threshold moved more than the per-cycle bound
  'weight-step', // weights moved more than the per-cycle bound
  'threshold-drift', // threshold moved more than the bound from the anchor
  'weight-drift', // weights moved more than the bound from the anchor
  'golden-recall', // the new model misses too many known anomalies
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface GuardrailCheck {
  /** Which figure was checked (`window-rows`, `support-rows`, `weight-drift`, …). */
  name: string;
  reason: RefusalReason;
  passed: boolean;
  /** The measured figure. */
  value: number;
  /** The bound it was held to. */
  bound: number;
  /** `max` if the value must not exceed the bound, `min` if it must not fall below it. */
  kind: 'max' | 'min';
}

/** The figures the pre-step guardrails look at. */
export interface WindowFigures {
  windowRows: number;
  supportRows: number;
  referenceRows: number;
  /** Share of the window's preparable rows the current model flags. */
  flaggedShare: number;
  /** Window rows newer than the newest row the parent adaptation saw (all rows when none). */
  newRows: number;
}

/** The figures the post-step guardrails look at. */
export interface ModelMoveFigures {
  thresholdBefore: number;
  thresholdAfter: number;
  anchorThreshold: number;
  /**
   * max(after/before, before/after) − 1, of the thresholds in residual units (the same as the thresholds
   * for the report's MSE score; see `thresholdInResidualUnits`).
   */
  thresholdStep: number;
  /** ‖W_after − W_before‖ / ‖W_before‖. */
  weightStep: number;
  /** max(after/anchor, anchor/after) − 1, in residual units as `thresholdStep`. */
  thresholdDrift: number;
  /** ‖W_after − W_anchor‖ / ‖W_anchor‖. */
  weightDrift: number;
  goldenRecall: number;
  lossAfter: number;
}

export function checkWindow(
  f: WindowFigures,
  b: GuardrailBounds,
  minReferenceRows: number,
): GuardrailCheck[] {
  return [
    minCheck('too-few-rows', f.windowRows, b.minWindowRows, 'window-rows'),
    minCheck('too-few-rows', f.supportRows, Math.max(1, b.minSupportRows), 'support-rows'),
    minCheck('too-few-rows', f.referenceRows, minReferenceRows, 'reference-rows'),
    minCheck('stale-window', f.newRows, b.minNewRows, 'new-rows'),
    maxCheck('flagged-share', f.flaggedShare, b.maxFlaggedShare),
  ];
}

export function checkModelMove(f: ModelMoveFigures, b: GuardrailBounds): GuardrailCheck[] {
  const finite =
    [f.thresholdAfter, f.weightStep, f.weightDrift, f.lossAfter].every(Number.isFinite) &&
    f.thresholdAfter > 0;
  return [
    { name: 'finite', reason: 'non-finite', passed: finite, value: finite ? 1 : 0, bound: 1, kind: 'min' },
    maxCheck('threshold-step', f.thresholdStep, b.maxThresholdStep),
    maxCheck('weight-step', f.weightStep, b.maxWeightStep),
    maxCheck('threshold-drift', f.thresholdDrift, b.maxThresholdDrift),
    maxCheck('weight-drift', f.weightDrift, b.maxWeightDrift),
    minCheck('golden-recall', f.goldenRecall, b.minGoldenRecall),
  ];
}

/** Distinct reasons of the failed checks, in catalogue order. */
export function refusalReasons(checks: readonly GuardrailCheck[]): RefusalReason[] {
  const failed = new Set(checks.filter((c) => !c.passed).map((c) => c.reason));
  return REFUSAL_REASONS.filter((r) => failed.has(r));
}

/** max(a/b, b/a) − 1 for positive a, b: 0 when equal, symmetric in up and down moves. */
export function ratioMove(a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) return a === b ? 0 : Number.POSITIVE_INFINITY;
  return Math.max(a / b, b / a) - 1;
}

/**
 * `ratioMove` from `from` to the nearest point of `[low, high]`: 0 when `from` lies inside it. A refit
 * threshold's sampling interval (`thresholdInterval`) holds every value the refit could as well have
 * given, so only the distance beyond it is a move.
 */
export function ratioMoveToInterval(low: number, high: number, from: number): number {
  return ratioMove(Math.min(high, Math.max(low, from)), from);
}

/** ‖a − b‖₂ / ‖b‖₂ over all tensors (same shapes); Infinity if the shapes differ. */
export function relativeL2(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let norm = 0;
  for (let t = 0; t < a.length; t++) {
    const x = a[t]!;
    const y = b[t]!;
    if (x.length !== y.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < x.length; i++) {
      const d = x[i]! - y[i]!;
      diff += d * d;
      norm += y[i]! * y[i]!;
    }
  }
  if (norm === 0) return diff === 0 ? 0 : Number.POSITIVE_INFINITY;
  return Math.sqrt(diff / norm);
}

function maxCheck(
  reason: RefusalReason,
  value: number,
  bound: number,
  name: string = reason,
): GuardrailCheck {
  return { name, reason, passed: value <= bound, value, bound, kind: 'max' };
}

function minCheck(
  reason: RefusalReason,
  value: number,
  bound: number,
  name: string = reason,
): GuardrailCheck {
  return { name, reason, passed: value >= bound, value, bound, kind: 'min' };
}
