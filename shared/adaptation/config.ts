/**
 * Typed options of one adaptation cycle, with the defaults the drift benchmark chose
 * (`npm run bench:drift`, figures in `shared/adaptation/README.md`).
 *
 * Two support-set policies exist side by side:
 * - `report`: the report's rapid adaptation, reproducible (10 rows drawn at random from the window with a
 *   seeded generator, 5 full-batch Adam steps at lr 1e-3). It may feed anomalies to the model and, as the
 *   reimplementation and the benchmark show, moves nothing measurable. It is kept for comparison.
 * - `default`: leaves out what the current model flags or scores near its threshold, caps any single
 *   key's share, and takes enough rows and steps to actually follow a drifting distribution.
 *
 * Every guardrail is a bound here; `enforce: false` computes and reports them without refusing
 * (an observe-only mode, and the benchmark's "without guardrails" arm).
 */
import { ConfigError } from '../errors.js';
import { validatePolicySpec, type PolicySpec } from '../threshold/policy.js';

export type SupportPolicyName = 'report' | 'default';

export const SUPPORT_POLICIES: readonly SupportPolicyName[] = ['report', 'default'];

export interface ReportPolicyOptions {
  /** Rows drawn at random from the window (10 in the report). */
  supportSize: number;
  /** Full-batch Adam steps (5 in the report). */
  steps: number;
  /** Adam learning rate (1e-3 in the report). */
  learningRate: number;
}

export interface DefaultPolicyOptions {
  /** At most this many rows in the support set. */
  supportSize: number;
  steps: number;
  learningRate: number;
  /**
   * A row is a support candidate only if the current model scores it at or below `margin × threshold`.
   * Below 1 keeps the rows just under the threshold (the ones a slow poisoning would sit on) out.
   */
  margin: number;
  /** No entity key may supply more than this share of the support set (rows with no key are not capped). */
  maxKeyShare: number;
  /** `recent`: the most recent clean rows; `random`: a seeded sample of the clean rows. */
  sampling: 'recent' | 'random';
}

export interface ThresholdReferenceOptions {
  /**
   * The threshold is recomputed, at the model's percentile, over every window row the *current* model
   * scores at or below `margin × threshold` (the support rows included: the report, too, takes the
   * percentile over the rows the model was fitted on; leaving them out would leave a reference enriched
   * in exactly the high-scoring rows the support policy skipped, and a threshold biased upwards).
   * The margin is wide (the report's anomalies sit at 6–30× a feature) so the normal tail stays in and
   * the percentile is not pulled down cycle after cycle; what is far above is left out, so anomalies
   * do not raise it.
   */
  margin: number;
  /**
   * The margin instead, for a policy that sets aside likely anomalies itself (`conformal`). Wider, because
   * a margin cuts off the rows a drift moved furthest, which are the new normal, and biases the refitted
   * threshold low; not unbounded, because an incident can fill more of a window than the policy's fence
   * is built for (it holds up to 10 % of anomalies), and far-out rows are left out here first.
   */
  anomalyPolicyMargin: number;
  /** Fewer reference rows than this refuses the cycle (`too-few-rows`). */
  minRows: number;
}

export interface GoldenSetOptions {
  /** Injected rows in the frozen golden set (built once per anchor). */
  size: number;
  /** The report's injection variants used, rows split evenly between them. */
  variants: ('A' | 'B')[];
  seed: number;
}

export interface GuardrailBounds {
  /** Refuse when the window holds fewer rows than this. */
  minWindowRows: number;
  /** Refuse when fewer support rows than this survive the policy. */
  minSupportRows: number;
  /**
   * Refuse when fewer rows than this arrived since the window the parent was adapted on: with no
   * traffic, re-fitting the same rows every cycle would only churn versions (and over-fit them).
   */
  minNewRows: number;
  /** Refuse when the current model flags more than this share of the window (incident or attack). */
  maxFlaggedShare: number;
  /**
   * Refuse when the threshold moves by more than this ratio in one cycle (max(new/old, old/new) − 1),
   * `new` being the point of the refit's sampling interval nearest the parent's threshold: a refit on a
   * few thousand rows at a 1 % target moves by 20–40 % by sampling alone, and that is not a step.
   */
  maxThresholdStep: number;
  /** Refuse when ‖W_new − W_old‖₂ / ‖W_old‖₂ exceeds this in one cycle. */
  maxWeightStep: number;
  /** Refuse when the threshold has moved by more than this ratio from the anchor's (measured as `maxThresholdStep`). */
  maxThresholdDrift: number;
  /** Refuse when ‖W_new − W_anchor‖₂ / ‖W_anchor‖₂ exceeds this. */
  maxWeightDrift: number;
  /** Refuse when the new model flags fewer than this share of the golden set. */
  minGoldenRecall: number;
}

export interface AdaptationOptions {
  policy: SupportPolicyName;
  /** Most recent window entries read per cycle. */
  windowSize: number;
  /** Seed of the cycle's random draws (support sample); the cycle id is mixed in when one is given. */
  seed: number;
  report: ReportPolicyOptions;
  default: DefaultPolicyOptions;
  reference: ThresholdReferenceOptions;
  golden: GoldenSetOptions;
  guardrails: GuardrailBounds;
  /** false: guardrails are computed and reported but never refuse. */
  enforce: boolean;
  /**
   * The threshold policy fitted on the reference rows after each adaptation; null refits the base
   * model's own policy (same kind and parameters), which is what keeps a model's target false-positive rate.
   */
  threshold: PolicySpec | null;
}

/** The report's settings: reproduced as written, for comparison only. */
export const REPORT_POLICY: Readonly<ReportPolicyOptions> = Object.freeze({
  supportSize: 10,
  steps: 5,
  learningRate: 1e-3,
});

export const ADAPTATION_DEFAULTS: Readonly<AdaptationOptions> = Object.freeze({
  policy: 'default',
  windowSize: 2000,
  seed: 42,
  report: { ...REPORT_POLICY },
  default: {
    supportSize: 512,
    steps: 30,
    learningRate: 3e-3,
    margin: 0.9,
    maxKeyShare: 0.1,
    sampling: 'recent',
  },
  reference: { margin: 2, anomalyPolicyMargin: 10, minRows: 100 },
  golden: { size: 256, variants: ['A', 'B'], seed: 7 },
  guardrails: {
    minWindowRows: 200,
    minSupportRows: 10,
    minNewRows: 100,
    maxFlaggedShare: 0.5,
    maxThresholdStep: 0.3,
    maxWeightStep: 0.1,
    maxThresholdDrift: 0.5,
    maxWeightDrift: 0.3,
    minGoldenRecall: 0.9,
  },
  enforce: true,
  threshold: null,
} satisfies AdaptationOptions);

/** A deep-partial override of the options, as config files and flags give them. */
export interface AdaptationOverrides {
  policy?: SupportPolicyName;
  windowSize?: number;
  seed?: number;
  report?: Partial<ReportPolicyOptions>;
  default?: Partial<DefaultPolicyOptions>;
  reference?: Partial<ThresholdReferenceOptions>;
  golden?: Partial<GoldenSetOptions>;
  guardrails?: Partial<GuardrailBounds>;
  enforce?: boolean;
  threshold?: PolicySpec | null;
}

/**
 * `base` (the defaults unless given, e.g. a service's configured options) overlaid with `overrides`
 * (e.g. one job's), then checked; a ConfigError lists every bad field.
 */
export function resolveAdaptationOptions(
  overrides: AdaptationOverrides = {},
  base: Readonly<AdaptationOptions> = ADAPTATION_DEFAULTS,
): AdaptationOptions {
  const d = base;
  const opts: AdaptationOptions = {
    policy: overrides.policy ?? d.policy,
    windowSize: overrides.windowSize ?? d.windowSize,
    seed: overrides.seed ?? d.seed,
    report: { ...d.report, ...defined(overrides.report) },
    default: { ...d.default, ...defined(overrides.default) },
    reference: { ...d.reference, ...defined(overrides.reference) },
    golden: {
      ...d.golden,
      ...defined(overrides.golden),
      variants: [...(overrides.golden?.variants ?? d.golden.variants)],
    },
    guardrails: { ...d.guardrails, ...defined(overrides.guardrails) },
    enforce: overrides.enforce ?? d.enforce,
    threshold: overrides.threshold !== undefined ? overrides.threshold : d.threshold,
  };
  validateAdaptationOptions(opts);
  return opts;
}

/** Throws a ConfigError naming every field out of range. */
export function validateAdaptationOptions(o: AdaptationOptions): void {
  const issues: { path: string; message: string }[] = [];
  const int = (path: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min)
      issues.push({ path, message: `must be an integer ≥ ${min}, got ${v}` });
  };
  const pos = (path: string, v: number): void => {
    if (!(Number.isFinite(v) && v > 0)) issues.push({ path, message: `must be a positive number, got ${v}` });
  };
  const share = (path: string, v: number): void => {
    if (!(v >= 0 && v <= 1)) issues.push({ path, message: `must be within [0, 1], got ${v}` });
  };
  const bound = (path: string, v: number): void => {
    // Infinity is allowed: it switches one guardrail off.
    if (!(v >= 0)) issues.push({ path, message: `must be ≥ 0 (Infinity disables it), got ${v}` });
  };
  if (!SUPPORT_POLICIES.includes(o.policy)) {
    issues.push({
      path: 'policy',
      message: `must be one of ${SUPPORT_POLICIES.join(', ')}, got ${String(o.policy)}`,
    });
  }
  int('windowSize', o.windowSize, 1);
  int('seed', o.seed, 0);
  int('report.supportSize', o.report.supportSize, 1);
  int('report.steps', o.report.steps, 0);
  pos('report.learningRate', o.report.learningRate);
  int('default.supportSize', o.default.supportSize, 1);
  int('default.steps', o.default.steps, 0);
  pos('default.learningRate', o.default.learningRate);
  pos('default.margin', o.default.margin);
  if (!(o.default.maxKeyShare > 0 && o.default.maxKeyShare <= 1)) {
    issues.push({
      path: 'default.maxKeyShare',
      message: `must be within (0, 1], got ${o.default.maxKeyShare}`,
    });
  }
  if (o.default.sampling !== 'recent' && o.default.sampling !== 'random') {
    issues.push({
      path: 'default.sampling',
      message: `must be recent or random, got ${String(o.default.sampling)}`,
    });
  }
  pos('reference.margin', o.reference.margin);
  pos('reference.anomalyPolicyMargin', o.reference.anomalyPolicyMargin);
  int('reference.minRows', o.reference.minRows, 1);
  int('golden.size', o.golden.size, 1);
  int('golden.seed', o.golden.seed, 0);
  if (o.golden.variants.length === 0 || o.golden.variants.some((v) => v !== 'A' && v !== 'B')) {
    issues.push({ path: 'golden.variants', message: 'must name at least one of A, B' });
  }
  const g = o.guardrails;
  int('guardrails.minWindowRows', g.minWindowRows, 0);
  int('guardrails.minSupportRows', g.minSupportRows, 0);
  int('guardrails.minNewRows', g.minNewRows, 0);
  share('guardrails.maxFlaggedShare', g.maxFlaggedShare);
  bound('guardrails.maxThresholdStep', g.maxThresholdStep);
  bound('guardrails.maxWeightStep', g.maxWeightStep);
  bound('guardrails.maxThresholdDrift', g.maxThresholdDrift);
  bound('guardrails.maxWeightDrift', g.maxWeightDrift);
  share('guardrails.minGoldenRecall', g.minGoldenRecall);
  if (o.threshold !== null) {
    try {
      validatePolicySpec(o.threshold);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues.map((i) => ({ path: `threshold.${i.path}`, message: i.message })));
    }
  }
  if (issues.length > 0) throw new ConfigError('invalid adaptation options', issues);
}

/** The steps, learning rate and support size the chosen policy runs with. */
export function policySettings(o: AdaptationOptions): {
  supportSize: number;
  steps: number;
  learningRate: number;
} {
  const p = o.policy === 'report' ? o.report : o.default;
  return { supportSize: p.supportSize, steps: p.steps, learningRate: p.learningRate };
}

function defined<T extends object>(v: T | undefined): Partial<T> {
  if (v === undefined) return {};
  const out: Partial<T> = {};
  for (const [k, val] of Object.entries(v)) {
    if (val !== undefined) (out as Record<string, unknown>)[k] = val;
  }
  return out;
}
