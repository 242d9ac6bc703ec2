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
 * is the same `score > threshold` as every policy's, with threshold = c₍ₙ₋ₖ₎. That needs k ≥ 0, i.e. at
 * least ⌈1/α⌉ − 1 calibration scores.
 *
 * **Beyond the largest calibration score** the p-value keeps falling along an exponential tail:
 * p(s) = exp(−(s − cₘₐₓ) / β) / (n + 1), with β the mean excess of the `TAIL_FIT` largest scores over the
 * next one (the maximum-likelihood scale of an exponential tail there). A flag on a score far beyond every
 * calibration score then says how far (where the plain p-value stops at 1/(n + 1)), and a table too small
 * for ⌈1/α⌉ − 1 calibration scores (at least `MIN_ROWS`) still gets a threshold for α, cₘₐₓ + β·ln(1/(α(n+1))),
 * where the guarantee becomes an extrapolation (`describe` says so). With k ≥ 0 the threshold and every
 * decision are exactly the plain ones.
 *
 * The fitted state keeps the sorted calibration scores (the p-value needs them all): about 20 bytes of
 * JSON per score.
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

/** How many of the largest calibration scores the tail beyond the largest is fitted to. */
export const TAIL_FIT = 10;
/** The fewest calibration scores the policy fits on (with fewer than ⌈1/α⌉ − 1, by the tail). */
export const MIN_ROWS = 2 * TAIL_FIT;

/** k = ⌊α(n+1)⌋ − 1 (a tiny tolerance absorbs float error in α(n+1) when it is a whole number). */
function allowedAbove(alpha: number, n: number): number {
  return Math.floor(alpha * (n + 1) + 1e-9) - 1;
}

/** The fewest calibration scores for which the plain p-value can reach α: ⌈1/α⌉ − 1. */
export function minConformalRows(alpha: number): number {
  let n = Math.max(1, Math.ceil(1 / alpha) - 1);
  while (allowedAbove(alpha, n) < 0) n++;
  return n;
}

/** β: the mean excess of the `TAIL_FIT` largest of the ascending `sorted` over the next one (0 with fewer). */
function tailScale(sorted: Float64Array): number {
  const n = sorted.length;
  if (n <= TAIL_FIT) return 0;
  const base = sorted[n - TAIL_FIT - 1]!;
  let sum = 0;
  for (let i = n - TAIL_FIT; i < n; i++) sum += sorted[i]! - base;
  return sum / TAIL_FIT;
}

export class ConformalPolicy implements ThresholdPolicy<'conformal', ConformalParams, ConformalState> {
  readonly kind = 'conformal' as const;
  readonly setsAsideAnomalies = true;
  readonly params: Readonly<ConformalParams>;
  readonly state: Readonly<CommonState & ConformalState>;
  private readonly sorted: Float64Array;
  /** β of the exponential tail beyond the largest calibration score. */
  private readonly tail: number;

  private constructor(params: ConformalParams, sorted: Float64Array, reference: string) {
    const n = sorted.length;
    const k = allowedAbove(params.alpha, n);
    this.params = Object.freeze({ ...params });
    this.sorted = sorted;
    this.tail = tailScale(sorted);
    const threshold =
      k >= 0 ? sorted[n - k - 1]! : sorted[n - 1]! + this.tail * Math.log(1 / (params.alpha * (n + 1)));
    this.state = Object.freeze({
      threshold,
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
      Math.min(minConformalRows(p.alpha), MIN_ROWS),
      `a conformal p-value ≤ α = ${p.alpha}`,
    );
    if (allowedAbove(p.alpha, sorted.length) < 0 && !(tailScale(sorted) > 0)) {
      throw new ModelError(
        'CALIBRATION_FAILED',
        `a conformal p-value ≤ α = ${p.alpha} from ${sorted.length} calibration scores needs a tail beyond ` +
          `the largest, and their ${TAIL_FIT} largest are all equal; calibrate on more rows`,
        { details: { rows: sorted.length } },
      );
    }
    return new ConformalPolicy(p, sorted, reference);
  }

  static fromJSON(json: { params: unknown; state: unknown }): ConformalPolicy {
    const p = parseParams('conformal', conformalParamsSchema, json.params);
    const s = parseState('conformal', stateSchema, json.state);
    const sorted = Float64Array.from(s.calibration);
    for (let i = 1; i < sorted.length; i++) {
      if (!(sorted[i - 1]! <= sorted[i]!)) throw unusable('calibration scores are not sorted');
    }
    const tooFew =
      allowedAbove(p.alpha, sorted.length) < 0 && !(sorted.length >= MIN_ROWS && tailScale(sorted) > 0);
    if (s.referenceRows !== sorted.length || tooFew) {
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

  /**
   * ⌊α(n+1)⌋/(n+1): the exact false-positive rate on continuous exchangeable scores (≤ α); α itself where
   * the threshold lies on the tail beyond the largest calibration score.
   */
  get targetFpr(): number {
    const n = this.sorted.length;
    const k = allowedAbove(this.params.alpha, n);
    return k >= 0 ? (k + 1) / (n + 1) : this.params.alpha;
  }

  /** True when the threshold lies on the tail beyond the largest calibration score (too few of them). */
  get extrapolated(): boolean {
    return allowedAbove(this.params.alpha, this.sorted.length) < 0;
  }

  /** (1 + #{cᵢ ≥ s}) / (n + 1); beyond the largest cᵢ, exp(−(s − cₘₐₓ) / β) / (n + 1). */
  pValue(score: number): number {
    const n = this.sorted.length;
    const max = this.sorted[n - 1]!;
    if (score > max && this.tail > 0) return Math.exp(-(score - max) / this.tail) / (n + 1);
    return (1 + countAtLeast(this.sorted, score)) / (n + 1);
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
    const tail = this.extrapolated
      ? ' (fewer than 1/α: threshold on the exponential tail beyond the largest)'
      : '';
    return `conformal α=${this.params.alpha} over ${this.state.referenceRows} ${this.state.reference} scores${tail}`;
  }
}

function unusable(why: string): ModelError {
  return new ModelError(
    'INCOMPATIBLE_MODEL',
    `threshold policy "conformal" has unusable fitted state: ${why}`,
  );
}
