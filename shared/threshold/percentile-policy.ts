/**
 * `percentile`: the report's rule. The threshold is the p-th percentile (numpy's linear interpolation,
 * `percentile.ts`) of the calibration scores; the report takes p = 95 over the training rows' MSE.
 * It has no p-value; it aims at a false-positive rate of 1 − p/100 on exchangeable scores.
 */
import { z } from 'zod';
import { sortedCalibration } from './calibration.js';
import { percentile } from './percentile.js';
import {
  commonStateSchema,
  parseParams,
  parseState,
  type Classification,
  type CommonState,
  type PolicyJson,
  type ThresholdPolicy,
} from './types.js';

export const percentileParamsSchema = z.strictObject({
  percentile: z
    .number({ error: 'percentile must be a number' })
    .min(0, 'percentile must be within [0, 100]')
    .max(100, 'percentile must be within [0, 100]'),
});
export type PercentileParams = z.output<typeof percentileParamsSchema>;
type PercentileState = Record<never, never>;

const stateSchema = commonStateSchema.strict();

export class PercentilePolicy implements ThresholdPolicy<'percentile', PercentileParams, PercentileState> {
  readonly kind = 'percentile' as const;
  readonly setsAsideAnomalies = false;
  readonly params: Readonly<PercentileParams>;
  readonly state: Readonly<CommonState>;

  private constructor(params: PercentileParams, state: CommonState) {
    this.params = Object.freeze({ ...params });
    this.state = Object.freeze({ ...state });
  }

  static fit(params: unknown, scores: ArrayLike<number>, reference: string): PercentilePolicy {
    const p = parseParams('percentile', percentileParamsSchema, params);
    const sorted = sortedCalibration(scores, 1, 'the percentile policy');
    return new PercentilePolicy(p, {
      threshold: percentile(sorted, p.percentile),
      reference,
      referenceRows: sorted.length,
    });
  }

  static fromJSON(json: { params: unknown; state: unknown }): PercentilePolicy {
    const p = parseParams('percentile', percentileParamsSchema, json.params);
    return new PercentilePolicy(p, parseState('percentile', stateSchema, json.state));
  }

  get threshold(): number {
    return this.state.threshold;
  }

  get targetFpr(): number {
    return 1 - this.params.percentile / 100;
  }

  classify(score: number): Classification {
    return { flagged: score > this.state.threshold, threshold: this.state.threshold, pValue: null };
  }

  refit(scores: ArrayLike<number>, reference: string): PercentilePolicy {
    return PercentilePolicy.fit(this.params, scores, reference);
  }

  toJSON(): PolicyJson<'percentile', PercentileParams, PercentileState> {
    return { kind: this.kind, params: { ...this.params }, state: { ...this.state } };
  }

  describe(): string {
    return `p${this.params.percentile} of ${this.state.referenceRows} ${this.state.reference} scores`;
  }
}
