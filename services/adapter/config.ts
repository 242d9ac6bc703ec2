/**
 * Adapter service configuration: environment variables (`SMAE_*`) and command-line flags
 * (`--kebab-case`, which win), validated once at start; every problem is reported at once.
 *
 * Schedule per pipeline: `SMAE_EVERY` (a duration: `15m`, `30s`, `1h`, or milliseconds) or
 * `SMAE_CRON` (a cron pattern, which wins), the same for every pipeline in `SMAE_PIPELINE`
 * (comma-separated). Adaptation options: `SMAE_ADAPTATION` takes the whole option tree as JSON
 * (see shared/adaptation/config.ts); the common knobs also have their own setting, which wins.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  resolveAdaptationOptions,
  type AdaptationOptions,
  type AdaptationOverrides,
} from '../../shared/adaptation/config.js';
import { ConfigError } from '../../shared/errors.js';

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const num = z.coerce.number({ error: 'must be a number' });

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** `250ms`, `30s`, `15m`, `2h`, `1d` or a bare number of milliseconds. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

const duration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null || ms < 1) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 30s, 15m, 2h or 1d' });
    return z.NEVER;
  }
  return ms;
});

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
        .array(
          z
            .string()
            .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/, "each name: 1–100 letters, digits, '.', '_' or '-'"),
        )
        .min(1, 'names no pipeline'),
    ),
  every: duration.default(15 * 60_000),
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
  attempts: int(1, 100).default(5),
  backoffMs: int(10, 3_600_000).default(10_000),
  lockDurationMs: int(1000, 3_600_000).default(60_000),
  stalledIntervalMs: int(500, 3_600_000).default(30_000),
  pipelineLockTtlMs: int(1000, 3_600_000).default(30_000),
  compute: z.enum(['thread', 'inline']).default('thread'),
  backend: z.enum(['auto', 'cpu', 'wasm', 'tensorflow']).default('auto'),
  historyLimit: int(1, 100_000).default(50),
  keepJobs: int(1, 1_000_000).default(200),
  metricsPort: int(0, 65_535).default(9467),
  metricsHost: z.string().min(1).default('0.0.0.0'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  shutdownTimeoutMs: int(100, 600_000).default(60_000),
});

export type AdapterSettings = z.infer<typeof adapterConfigSchema>;
type Key = keyof AdapterSettings;
const KEYS = Object.keys(adapterConfigSchema.shape) as Key[];

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

export function envName(key: string): string {
  return `SMAE_${key.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
}

export function flagName(key: string): string {
  return key.replace(/([A-Z])/g, '-$1').toLowerCase();
}

export function describeSettings(): string {
  return KEYS.map((k) => {
    const def = (adapterConfigSchema.shape[k] as z.ZodType).safeParse(undefined);
    const shown = def.success && def.data !== undefined ? ` (default ${JSON.stringify(def.data)})` : '';
    return `  --${flagName(k)} / ${envName(k)}${shown}`;
  }).join('\n');
}

export function loadAdapterConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): AdapterConfig {
  const raw: Partial<Record<Key, unknown>> = {};
  for (const k of KEYS) {
    const v = env[envName(k)];
    if (v !== undefined && v.trim() !== '') raw[k] = v.trim();
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(KEYS.map((k) => [flagName(k), { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new ConfigError('invalid adapter command line', [
      { path: 'argv', message: `${(err as Error).message}; run with --help for the accepted flags` },
    ]);
  }
  for (const k of KEYS) {
    const v = parsed.values[flagName(k)];
    if (typeof v === 'string') raw[k] = v;
  }
  return resolveAdapterConfig(raw);
}

export function resolveAdapterConfig(raw: Partial<Record<Key, unknown>>): AdapterConfig {
  const where = (k: string): string => `${envName(k)} / --${flagName(k)}`;
  const result = adapterConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      'invalid adapter configuration',
      result.error.issues.map((i) => {
        const key = String(i.path[0] ?? '');
        return { path: key ? where(key) : '(root)', message: i.message };
      }),
    );
  }
  const s = result.data;
  const issues: { path: string; message: string }[] = [];
  let json: AdaptationOverrides = {};
  if (s.adaptation !== undefined) {
    try {
      const v = JSON.parse(s.adaptation) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
      json = v as AdaptationOverrides;
    } catch (err) {
      issues.push({
        path: where('adaptation'),
        message: `must be a JSON object of adaptation options: ${(err as Error).message}`,
      });
    }
  }
  let adaptation: AdaptationOptions | null = null;
  if (issues.length === 0) {
    try {
      adaptation = resolveAdaptationOptions(mergeOverrides(json, s));
    } catch (err) {
      if (err instanceof ConfigError) {
        for (const i of err.issues)
          issues.push({ path: `${where('adaptation')} ${i.path}`, message: i.message });
      } else throw err;
    }
  }
  if (s.pipelineLockTtlMs < 1000) {
    issues.push({ path: where('pipelineLockTtlMs'), message: 'must be at least 1000' });
  }
  if (issues.length > 0 || adaptation === null)
    throw new ConfigError('invalid adapter configuration', issues);

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
