/**
 * `spot`: peaks over threshold (Siffer, Fouque, Termier, Largouët, "Anomaly detection in streams with
 * extreme value theory", KDD 2017; the calibration step of their SPOT algorithm).
 *
 * From n calibration scores: an initial threshold t at the `initialLevel` quantile (numpy's percentile),
 * the Nₜ excesses Yᵢ = Xᵢ − t of the scores strictly above it, a generalised Pareto fit (ξ, σ) of those
 * (Grimshaw's maximum likelihood, `gpd.ts`), and the threshold for a target false-alarm probability q:
 *
 *     z_q = t + (σ / ξ) · ((q n / Nₜ)^(−ξ) − 1)      (ξ ≠ 0),     t − σ · log(q n / Nₜ)      (ξ = 0)
 *
 * i.e. the (1 − q)-quantile of the fitted tail, which may lie beyond the largest calibration score (that
 * is the point: it does not need 1/q scores to place a 1/q threshold). The tail probability of a score
 * s > t is (Nₜ / n) · P(Y > s − t), reported as the score's p-value; below t the policy has none.
 *
 * With fewer than `MIN_PEAKS` excesses the tail cannot be fitted and the policy falls back to the
 * empirical (1 − q)-quantile (estimator `empirical`, no tail probability); the manifest records it.
 * `initialLevel` defaults to min(0.98, 1 − 2q) (Siffer et al. use 0.98); it must leave room above it for
 * the target: q < 1 − initialLevel.
 */
import { z } from 'zod';
import { ModelError } from '../errors.js';
import { sortedCalibration } from './calibration.js';
import { fitGpd, gpdExcessQuantile, gpdSurvival } from './gpd.js';
import { percentile } from './percentile.js';
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

export const MIN_PEAKS = 10;

export function defaultInitialLevel(q: number): number {
  return Math.min(0.98, 1 - 2 * q);
}

export const spotParamsSchema = z
  .strictObject({ q: openUnit('q'), initialLevel: openUnit('initialLevel').optional() })
  .transform((p, ctx) => {
    const initialLevel = p.initialLevel ?? defaultInitialLevel(p.q);
    if (!(p.q < 1 - initialLevel)) {
      ctx.addIssue({
        code: 'custom',
        path: ['q'],
        message: `q = ${p.q} must be < 1 − initialLevel (${initialLevel}): the target must lie above the initial threshold`,
      });
      return z.NEVER;
    }
    return { q: p.q, initialLevel };
  });
export type SpotParams = z.output<typeof spotParamsSchema>;

export interface SpotState {
  /** t: the initial threshold. */
  initialThreshold: number;
  /** Nₜ: how many calibration scores lie strictly above t. */
  peaks: number;
  /** ξ and σ of the excesses' GPD; null for the empirical fallback. */
  shape: number | null;
  scale: number | null;
  estimator: 'grimshaw-mle' | 'exponential-mle' | 'moments' | 'empirical';
}

const finite = z.number().refine(Number.isFinite, 'must be finite');
const stateSchema = commonStateSchema
  .extend({
    initialThreshold: finite,
    peaks: z.number().int().min(0),
    shape: finite.nullable(),
    scale: z.number().gt(0).refine(Number.isFinite, 'must be finite').nullable(),
    estimator: z.enum(['grimshaw-mle', 'exponential-mle', 'moments', 'empirical']),
  })
  .strict();

export class SpotPolicy implements ThresholdPolicy<'spot', SpotParams, SpotState> {
  readonly kind = 'spot' as const;
  readonly setsAsideAnomalies = false;
  readonly params: Readonly<SpotParams>;
  readonly state: Readonly<CommonState & SpotState>;

  private constructor(params: SpotParams, state: CommonState & SpotState) {
    this.params = Object.freeze({ ...params });
    this.state = Object.freeze({ ...state });
  }

  static fit(params: unknown, scores: ArrayLike<number>, reference: string): SpotPolicy {
    const p = parseParams('spot', spotParamsSchema, params);
    const sorted = sortedCalibration(scores, 1, 'the spot policy');
    const n = sorted.length;
    const t = percentile(sorted, 100 * p.initialLevel);
    let first = n;
    while (first > 0 && sorted[first - 1]! > t) first--;
    const peaks = n - first;
    const common = { reference, referenceRows: n, initialThreshold: t, peaks };
    if (peaks < MIN_PEAKS) {
      return new SpotPolicy(p, {
        ...common,
        threshold: percentile(sorted, 100 * (1 - p.q)),
        shape: null,
        scale: null,
        estimator: 'empirical',
      });
    }
    const excesses = new Float64Array(peaks);
    for (let i = 0; i < peaks; i++) excesses[i] = sorted[first + i]! - t;
    const gpd = fitGpd(excesses);
    const threshold = t + gpdExcessQuantile((p.q * n) / peaks, gpd.shape, gpd.scale);
    if (!Number.isFinite(threshold)) {
      throw new ModelError(
        'CALIBRATION_FAILED',
        `the spot policy's tail fit gave no usable threshold (ξ=${gpd.shape}, σ=${gpd.scale})`,
      );
    }
    return new SpotPolicy(p, {
      ...common,
      threshold,
      shape: gpd.shape,
      scale: gpd.scale,
      estimator: gpd.estimator,
    });
  }

  static fromJSON(json: { params: unknown; state: unknown }): SpotPolicy {
    const p = parseParams('spot', spotParamsSchema, json.params);
    const s = parseState('spot', stateSchema, json.state);
    const fitted = s.shape !== null && s.scale !== null;
    if (fitted !== (s.estimator !== 'empirical') || (fitted && s.peaks < 1)) {
      throw new ModelError(
        'INCOMPATIBLE_MODEL',
        `threshold policy "spot" has unusable fitted state: estimator ${s.estimator} with shape ${s.shape}`,
      );
    }
    return new SpotPolicy(p, s);
  }

  get threshold(): number {
    return this.state.threshold;
  }

  get targetFpr(): number {
    return this.params.q;
  }

  /** (Nₜ / n) · P(Y > s − t) for s above the initial threshold; null below it or without a fit. */
  tailProbability(score: number): number | null {
    const { shape, scale, initialThreshold, peaks, referenceRows } = this.state;
    if (shape === null || scale === null || !(score > initialThreshold)) return null;
    return (peaks / referenceRows) * gpdSurvival(score - initialThreshold, shape, scale);
  }

  classify(score: number): Classification {
    return {
      flagged: score > this.state.threshold,
      threshold: this.state.threshold,
      pValue: this.tailProbability(score),
    };
  }

  refit(scores: ArrayLike<number>, reference: string): SpotPolicy {
    return SpotPolicy.fit(this.params, scores, reference);
  }

  toJSON(): PolicyJson<'spot', SpotParams, SpotState> {
    return { kind: this.kind, params: { ...this.params }, state: { ...this.state } };
  }

  describe(): string {
    const s = this.state;
    const fit = s.shape === null ? 'empirical quantile' : `GPD ξ=${s.shape.toPrecision(3)}`;
    return `spot q=${this.params.q} (${fit}, ${s.peaks} peaks) of ${s.referenceRows} ${s.reference} scores`;
  }
}
