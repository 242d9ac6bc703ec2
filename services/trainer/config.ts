/**
 * Trainer service configuration: environment variables (`SMAE_*`) and command-line flags
 * (`--kebab-case`, which win), validated once at start. The names the scorer also reads
 * (`SMAE_PIPELINE`, `SMAE_RECORD_SCHEMA`, `SMAE_WIRE_FORMAT`, `SMAE_SCHEMA_IDS_DIR`,
 * `SMAE_SCHEMA_REGISTRY_URL`, `SMAE_BACKEND`) mean the same thing here, so one environment file can
 * serve both. Kafka (`KAFKA_*`) and Redis (`REDIS_URL`) are read by shared/kafka and shared/redis.
 *
 * Source: `SMAE_DATA` (a CSV file) if set, otherwise the last `SMAE_LAST` records of `SMAE_TOPIC`
 * (default: the pipeline's records topic), decoded with `SMAE_RECORD_SCHEMA`.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../../shared/errors.js';
import { pipelineNames } from '../../shared/pipeline.js';
import { TRAINER_DEFAULTS, type TrainerServiceConfig } from './app.js';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const trainerConfigSchema = z.object({
  pipeline: z
    .string({ error: 'is required: the pipeline name (topics, groups and keys derive from it)' })
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/, "must be 1–100 letters, digits, '.', '_' or '-'"),
  data: z.string().min(1).optional(),
  topic: z.string().min(1).optional(),
  last: int(2, 100_000_000).default(50_000),
  recordSchema: z.string().min(1).optional(),
  wireFormat: z.enum(['auto', 'confluent', 'raw']).default('auto'),
  schemaIdsDir: z.string().min(1).optional(),
  schemaRegistryUrl: z.url('must be a URL such as http://schema-registry:8081').optional(),
  labelColumn: z.string().min(1).default('label'),
  exclude: list,
  categorical: list,
  scale: z.enum(['none', 'standard', 'minmax']).default('minmax'),
  impute: z.enum(['error', 'mean', 'zero']).default('error'),
  epochs: int(1, 100_000).default(30),
  batchSize: int(1, 1_000_000).default(32),
  learningRate: z.coerce.number({ error: 'must be a number' }).positive('must be > 0').optional(),
  percentile: z.coerce
    .number({ error: 'must be a number' })
    .gt(0, 'must be in (0, 100]')
    .lte(100)
    .default(95),
  seed: int(0, 2 ** 32 - 1).optional(),
  backend: z.enum(['auto', 'cpu', 'wasm', 'tensorflow']).default('auto'),
  intervalMs: int(0, 30 * 24 * 3600_000).default(TRAINER_DEFAULTS.intervalMs),
  runOnStart: bool.default(true),
  retryMs: int(1000, 24 * 3600_000).default(TRAINER_DEFAULTS.retryMs),
  lockTtlMs: int(1000, 3600_000).default(TRAINER_DEFAULTS.lockTtlMs),
  readTimeoutMs: int(1000, 3600_000).default(TRAINER_DEFAULTS.readTimeoutMs),
  historyLimit: int(1, 100_000).default(50),
  metricsPort: int(0, 65_535).default(TRAINER_DEFAULTS.port),
  metricsHost: z.string().min(1).default('0.0.0.0'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  shutdownTimeoutMs: int(100, 600_000).default(30_000),
});

export type TrainerSettings = z.infer<typeof trainerConfigSchema>;

type Key = keyof TrainerSettings;
const KEYS = Object.keys(trainerConfigSchema.shape) as Key[];

export function envName(key: string): string {
  return `SMAE_${key.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
}

export function flagName(key: string): string {
  return key.replace(/([A-Z])/g, '-$1').toLowerCase();
}

export function describeSettings(): string {
  return KEYS.map((k) => {
    const def = (trainerConfigSchema.shape[k] as z.ZodType).safeParse(undefined);
    const shown =
      def.success && def.data !== undefined && !(Array.isArray(def.data) && def.data.length === 0)
        ? ` (default ${JSON.stringify(def.data)})`
        : '';
    return `  --${flagName(k)} / ${envName(k)}${shown}`;
  }).join('\n');
}

export interface LoadedTrainerConfig {
  settings: TrainerSettings;
  service: TrainerServiceConfig;
}

export function loadTrainerConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): LoadedTrainerConfig {
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
    throw new ConfigError('invalid trainer command line', [
      { path: 'argv', message: `${(err as Error).message}; run with --help for the accepted flags` },
    ]);
  }
  for (const k of KEYS) {
    const v = parsed.values[flagName(k)];
    if (typeof v === 'string') raw[k] = v;
  }
  return resolveTrainerConfig(raw);
}

export function resolveTrainerConfig(raw: Partial<Record<Key, unknown>>): LoadedTrainerConfig {
  const where = (k: string) => `${envName(k)} / --${flagName(k)}`;
  const result = trainerConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      'invalid trainer configuration',
      result.error.issues.map((i) => {
        const key = String(i.path[0] ?? '');
        return { path: key ? where(key) : '(root)', message: i.message };
      }),
    );
  }
  const s = result.data;
  const issues: { path: string; message: string }[] = [];
  if (s.data !== undefined && s.topic !== undefined) {
    issues.push({ path: where('data'), message: `set either a CSV file or ${envName('topic')}, not both` });
  }
  if (s.data === undefined && s.recordSchema === undefined) {
    issues.push({
      path: where('recordSchema'),
      message: `is required to train from a topic (the .avsc the scorer reads); or set ${envName('data')} to a CSV file`,
    });
  }
  if (s.schemaIdsDir && s.schemaRegistryUrl) {
    issues.push({
      path: where('schemaRegistryUrl'),
      message: `set either this or ${envName('schemaIdsDir')}, not both`,
    });
  }
  if (issues.length > 0) throw new ConfigError('invalid trainer configuration', issues);

  const names = pipelineNames(s.pipeline);
  const service: TrainerServiceConfig = {
    pipeline: s.pipeline,
    source:
      s.data !== undefined
        ? { kind: 'csv', path: s.data }
        : { kind: 'topic', topic: s.topic ?? names.topics.records, last: s.last },
    training: {
      labelColumn: s.labelColumn,
      exclude: s.exclude,
      ...(s.categorical.length > 0 ? { categorical: s.categorical } : {}),
      scaler: s.scale,
      impute: s.impute,
      epochs: s.epochs,
      batchSize: s.batchSize,
      ...(s.learningRate !== undefined ? { learningRate: s.learningRate } : {}),
      percentile: s.percentile,
      ...(s.seed !== undefined ? { seed: s.seed } : {}),
      backend: s.backend,
    },
    intervalMs: s.intervalMs,
    runOnStart: s.runOnStart,
    retryMs: s.retryMs,
    lockTtlMs: s.lockTtlMs,
    readTimeoutMs: s.readTimeoutMs,
    historyLimit: s.historyLimit,
    ops: { port: s.metricsPort, host: s.metricsHost },
  };
  return { settings: s, service };
}
