/**
 * `conformal`: split-conformal p-values (Vovk et al.; Bates et al., "Testing for outliers with conformal
 * p-values", 2023). With n held-out calibration scores c₁…cₙ, the p-value of a score s is
 *
 *     p(s) = (1 + #{i : cᵢ ≥ s}) / (n + 1)
 *
 * and s is flagged when p(s) ≤ α. If s and the calibration scores are exchangeable (a normal row scored
 * by a model that never saw the calibration rows), P(p(s) ≤ α) ≤ α: the false-positive rate is at most α,
 * whatever the score's distribution. It equals ⌊α(n+1)⌋/(n+1) on continuous scores.
 *
 * p(s) ≤ α ⇔ #{cᵢ ≥ s} ≤ k with k = ⌊α(n+1)⌋ − 1 ⇔ s > c₍ₙ₋ₖ₎ (the (n−k)-th smallest), so the decision
 * is the same `score > threshold` as every policy's, with threshold = c₍ₙ₋ₖ₎. It needs k ≥ 0, i.e. at
 * least ⌈1/α⌉ − 1 calibration scores. The fitted state keeps the sorted calibration scores (the p-value
 * needs them all): about 20 bytes of JSON per score.
 */
import { z } from 'zod';
import { ModelError } from '../errors.js';
import { countAtLeast, sortedCalibration, withoutContamination } from './calibration.js';
import {
  commonStateSchema,
  openUnit,
  parseParams,
  parseState,
  type Classification,
  type CommonState,
  type PolicyJson,
  type ThresholdPolicy,
} from './types.js';

export const conformalParamsSchema = z.strictObject({ alpha: openUnit('alpha') });
export type ConformalParams = z.output<typeof conformalParamsSchema>;
export interface ConformalState {
  /** The calibration scores, ascending. */
  calibration: number[];
}

const stateSchema = commonStateSchema
  .extend({ calibration: z.array(z.number().refine(Number.isFinite, 'must be finite')).min(1) })
  .strict();

/** k = ⌊α(n+1)⌋ − 1 (a tiny tolerance absorbs float error in α(n+1) when it is a whole number). */
function allowedAbove(alpha: number, n: number): number {
  return Math.floor(alpha * (n + 1) + 1e-9) - 1;
}

/** The fewest calibration scores for which a p-value can reach α: ⌈1/α⌉ − 1. */
export function minConformalRows(alpha: number): number {
  let n = Math.max(1, Math.ceil(1 / alpha) - 1);
  while (allowedAbove(alpha, n) < 0) n++;
  return n;
}

export class ConformalPolicy implements ThresholdPolicy<'conformal', ConformalParams, ConformalState> {
  readonly kind = 'conformal' as const;
  readonly setsAsideAnomalies = true;
  readonly params: Readonly<ConformalParams>;
  readonly state: Readonly<CommonState & ConformalState>;
  private readonly sorted: Float64Array;

  private constructor(params: ConformalParams, sorted: Float64Array, reference: string) {
    const n = sorted.length;
    const k = allowedAbove(params.alpha, n);
    this.params = Object.freeze({ ...params });
    this.sorted = sorted;
    this.state = Object.freeze({
      threshold: sorted[n - k - 1]!,
      reference,
      referenceRows: n,
      calibration: Object.freeze(Array.from(sorted)) as number[],
    });
  }

  /** `clean`: the scores are known to hold no anomalies (labelled rows), so none are set aside. */
  static fit(
    params: unknown,
    scores: ArrayLike<number>,
    reference: string,
    opts: { clean?: boolean } = {},
  ): ConformalPolicy {
    const p = parseParams('conformal', conformalParamsSchema, params);
    const sorted = sortedCalibration(
      opts.clean === true ? scores : withoutContamination(scores),
      minConformalRows(p.alpha),
      `a conformal p-value ≤ α = ${p.alpha}`,
    );
    return new ConformalPolicy(p, sorted, reference);
  }

  static fromJSON(json: { params: unknown; state: unknown }): ConformalPolicy {
    const p = parseParams('conformal', conformalParamsSchema, json.params);
    const s = parseState('conformal', stateSchema, json.state);
    const sorted = Float64Array.from(s.calibration);
    for (let i = 1; i < sorted.length; i++) {
      if (!(sorted[i - 1]! <= sorted[i]!)) throw unusable('calibration scores are not sorted');
    }
    if (s.referenceRows !== sorted.length || allowedAbove(p.alpha, sorted.length) < 0) {
      throw unusable(`${sorted.length} calibration scores cannot reach α = ${p.alpha}`);
    }
    const policy = new ConformalPolicy(p, sorted, s.reference);
    if (policy.threshold !== s.threshold) {
      throw unusable(
        `threshold ${s.threshold} is not the one its calibration scores give (${policy.threshold})`,
      );
    }
    return policy;
  }

  get threshold(): number {
    return this.state.threshold;
  }

  /** ⌊α(n+1)⌋/(n+1): the exact false-positive rate on continuous exchangeable scores (≤ α). */
  get targetFpr(): number {
    const n = this.sorted.length;
    return (allowedAbove(this.params.alpha, n) + 1) / (n + 1);
  }

  /** (1 + #{cᵢ ≥ s}) / (n + 1). */
  pValue(score: number): number {
    return (1 + countAtLeast(this.sorted, score)) / (this.sorted.length + 1);
  }

  classify(score: number): Classification {
    return {
      flagged: score > this.state.threshold,
      threshold: this.state.threshold,
      pValue: this.pValue(score),
    };
  }

  refit(scores: ArrayLike<number>, reference: string): ConformalPolicy {
    return ConformalPolicy.fit(this.params, scores, reference);
  }

  toJSON(): PolicyJson<'conformal', ConformalParams, ConformalState> {
    return {
      kind: this.kind,
      params: { ...this.params },
      state: { ...this.state, calibration: Array.from(this.sorted) },
    };
  }

  describe(): string {
    return `conformal α=${this.params.alpha} over ${this.state.referenceRows} ${this.state.reference} scores`;
  }
}

function unusable(why: string): ModelError {
  return new ModelError(
    'INCOMPATIBLE_MODEL',
    `threshold policy "conformal" has unusable fitted state: ${why}`,
  );
}
