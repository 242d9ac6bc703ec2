/**
 * Adapter service configuration: environment variables (`SMAE_*`) and command-line flags
 * (`--kebab-case`, which win), validated once at start by the shared loader; every problem is
 * reported at once.
 *
 * Schedule per pipeline: `SMAE_EVERY` (a duration: `15m`, `30s`, `1h`, or milliseconds) or
 * `SMAE_CRON` (a cron pattern, which wins), the same for every pipeline in `SMAE_PIPELINE`
 * (comma-separated). Adaptation options: `SMAE_ADAPTATION` takes the whole option tree as JSON
 * (see shared/adaptation/config.ts); the common knobs also have their own setting, which wins.
 */
import { z } from 'zod';
import {
  resolveAdaptationOptions,
  type AdaptationOptions,
  type AdaptationOverrides,
} from '../../shared/adaptation/config.js';
import * as f from '../../shared/config/fields.js';
import {
  configKeys,
  defineServiceConfig,
  type ConfigIssue,
  type ConfigKeys,
} from '../../shared/config/service-config.js';
import { ConfigError } from '../../shared/errors.js';
import { policyKindOption, specFromChoice, targetFprOption } from '../../shared/threshold/policy.js';

export { envName, flagName } from '../../shared/config/service-config.js';

const { bool, int } = f;
const num = z.coerce.number({ error: 'must be a number' });

/** `250ms`, `30s`, `15m`, `2h`, `1d` or a bare number of milliseconds; null when unreadable. */
export function parseDuration(text: string): number | null {
  const ms = f.parseDuration(text);
  return Number.isNaN(ms) ? null : ms;
}

// The adapter's schedules run in minutes to days, and a zero interval is as wrong as an unreadable one.
const DURATION_HINT = 'must be a duration such as 500ms, 30s, 15m, 2h or 1d';

export const adapterConfigSchema = z.object({
  pipeline: z
    .string({ error: 'is required: one or more pipeline names, comma-separated' })
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(f.PIPELINE_NAME, "each name: 1–100 letters, digits, '.', '_' or '-'"))
        .min(1, 'names no pipeline'),
    ),
  every: f.duration(1, { invalid: DURATION_HINT, belowMin: DURATION_HINT }).default(15 * 60_000),
  cron: z.string().min(1).optional(),
  tz: z.string().min(1).optional(),
  schedule: bool.default(true),
  adaptation: z.string().optional(),
  policy: z.enum(['default', 'report']).optional(),
  windowSize: int(1, 1_000_000).optional(),
  supportSize: int(1, 1_000_000).optional(),
  steps: int(0, 100_000).optional(),
  learningRate: num.positive('must be > 0').optional(),
  seed: int(0, 2 ** 32 - 1).optional(),
  maxFlaggedShare: num.min(0, 'must be within [0, 1]').max(1, 'must be within [0, 1]').optional(),
  minGoldenRecall: num.min(0, 'must be within [0, 1]').max(1, 'must be within [0, 1]').optional(),
  maxWeightDrift: num.min(0, 'must be ≥ 0').optional(),
  maxThresholdDrift: num.min(0, 'must be ≥ 0').optional(),
  enforce: bool.optional(),
  thresholdPolicy: policyKindOption.optional(),
  targetFpr: targetFprOption.optional(),
  attempts: int(1, 100).default(5),
  backoffMs: int(10, 3_600_000).default(10_000),
  lockDurationMs: int(1000, 3_600_000).default(60_000),
  stalledIntervalMs: int(500, 3_600_000).default(30_000),
  pipelineLockTtlMs: int(1000, 3_600_000).default(30_000),
  compute: z.enum(['thread', 'inline']).default('thread'),
  backend: f.backend,
  historyLimit: int(1, 100_000).default(50),
  keepJobs: int(1, 1_000_000).default(200),
  metricsPort: f.metricsPort(9467),
  metricsHost: f.metricsHost,
  logLevel: f.logLevel,
  shutdownTimeoutMs: f.shutdownTimeoutMs(60_000),
});

export type AdapterSettings = z.infer<typeof adapterConfigSchema>;
type Keys = ConfigKeys<keyof AdapterSettings>;

/** When a pipeline's adaptation fires: every N ms, or on a cron pattern. */
export type AdapterSchedule = { every: number } | { pattern: string; tz?: string };

export interface AdapterConfig {
  pipelines: string[];
  schedule: AdapterSchedule;
  /** Whether this process creates/updates the job schedulers (a worker-only instance does not). */
  manageSchedulers: boolean;
  adaptation: AdaptationOptions;
  jobs: { attempts: number; backoffMs: number; keep: number };
  worker: { lockDurationMs: number; stalledIntervalMs: number };
  pipelineLockTtlMs: number;
  compute: 'thread' | 'inline';
  backend: 'auto' | 'cpu' | 'wasm' | 'tensorflow';
  historyLimit: number;
  ops: { port: number; host: string };
  logLevel: AdapterSettings['logLevel'];
  shutdownTimeoutMs: number;
}

const adapterConfig = defineServiceConfig({
  service: 'adapter',
  schema: adapterConfigSchema,
  keys: configKeys(adapterConfigSchema),
  check: (s, keys) => readAdaptation(s, keys).issues,
});

/** What `--help` prints: every setting with its variable and default. */
export const describeSettings = (): string => adapterConfig.describe();

/** Reads settings from `env` and `argv` (flags win); throws a ConfigError listing every problem. */
export const loadAdapterConfig = (env: NodeJS.ProcessEnv, argv: readonly string[] = []): AdapterConfig =>
  toAdapterConfig(adapterConfig.load({ env, argv }));

/** Validates already-collected settings (tests and embedding code call this directly). */
export const resolveAdapterConfig = (raw: Partial<Record<keyof AdapterSettings, unknown>>): AdapterConfig =>
  toAdapterConfig(adapterConfig.resolve(raw));

function toAdapterConfig(s: AdapterSettings): AdapterConfig {
  const { adaptation, issues } = readAdaptation(s, adapterConfig.keys);
  // Already checked by the loader (`check`); this narrows the type.
  if (!adaptation) throw new ConfigError('invalid adapter configuration', issues);
  return {
    pipelines: [...new Set(s.pipeline)],
    schedule: s.cron !== undefined ? { pattern: s.cron, ...(s.tz ? { tz: s.tz } : {}) } : { every: s.every },
    manageSchedulers: s.schedule,
    adaptation,
    jobs: { attempts: s.attempts, backoffMs: s.backoffMs, keep: s.keepJobs },
    worker: { lockDurationMs: s.lockDurationMs, stalledIntervalMs: s.stalledIntervalMs },
    pipelineLockTtlMs: s.pipelineLockTtlMs,
    compute: s.compute,
    backend: s.backend,
    historyLimit: s.historyLimit,
    ops: { port: s.metricsPort, host: s.metricsHost },
    logLevel: s.logLevel,
    shutdownTimeoutMs: s.shutdownTimeoutMs,
  };
}

/** The adaptation options from the JSON tree and the individual settings, or what is wrong with them. */
function readAdaptation(
  s: AdapterSettings,
  keys: Keys,
): { adaptation?: AdaptationOptions; issues: ConfigIssue[] } {
  let json: AdaptationOverrides = {};
  if (s.adaptation !== undefined) {
    try {
      const v = JSON.parse(s.adaptation) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
      json = v as AdaptationOverrides;
    } catch (err) {
      const message = `must be a JSON object of adaptation options: ${(err as Error).message}`;
      return { issues: [{ path: keys.where('adaptation'), message }] };
    }
  }
  try {
    return { adaptation: resolveAdaptationOptions(mergeOverrides(json, s)), issues: [] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      issues: err.issues.map((i) => ({ path: `${keys.where('adaptation')} ${i.path}`, message: i.message })),
    };
  }
}

/** The JSON option tree with the individual settings laid over it (they win). */
function mergeOverrides(json: AdaptationOverrides, s: AdapterSettings): AdaptationOverrides {
  const policy = s.policy ?? json.policy ?? 'default';
  const stepsEtc = {
    ...(s.supportSize !== undefined ? { supportSize: s.supportSize } : {}),
    ...(s.steps !== undefined ? { steps: s.steps } : {}),
    ...(s.learningRate !== undefined ? { learningRate: s.learningRate } : {}),
  };
  return {
    ...json,
    policy,
    ...(s.windowSize !== undefined ? { windowSize: s.windowSize } : {}),
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    ...(s.enforce !== undefined ? { enforce: s.enforce } : {}),
    ...(specFromChoice(s) !== undefined ? { threshold: specFromChoice(s)! } : {}),
    // Support size, steps and learning rate apply to the policy in use.
    report: { ...json.report, ...(policy === 'report' ? stepsEtc : {}) },
    default: { ...json.default, ...(policy === 'default' ? stepsEtc : {}) },
    guardrails: {
      ...json.guardrails,
      ...(s.maxFlaggedShare !== undefined ? { maxFlaggedShare: s.maxFlaggedShare } : {}),
      ...(s.minGoldenRecall !== undefined ? { minGoldenRecall: s.minGoldenRecall } : {}),
      ...(s.maxWeightDrift !== undefined ? { maxWeightDrift: s.maxWeightDrift } : {}),
      ...(s.maxThresholdDrift !== undefined ? { maxThresholdDrift: s.maxThresholdDrift } : {}),
    },
  };
}
