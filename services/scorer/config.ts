/**
 * Scorer configuration: environment variables (`SMAE_*`) and command-line flags (`--kebab-case`, which
 * win), validated once at start into a typed `ScorerConfig`. Every problem is reported at once, naming
 * both the variable and the flag and saying what would be accepted.
 *
 * Kafka and Redis connections are read separately (`KAFKA_*` via shared/kafka, `REDIS_URL` via
 * shared/redis), as every service reads them.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../../shared/errors.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const scorerConfigSchema = z.object({
  pipeline: z
    .string({ error: 'is required: the pipeline name (topics, groups and keys derive from it)' })
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/, "must be 1–100 letters, digits, '.', '_' or '-'"),
  recordSchema: z.string({ error: 'is required: the path of the input records’ .avsc file' }).min(1),
  wireFormat: z.enum(['auto', 'confluent', 'raw']).default('auto'),
  schemaIdsDir: z.string().min(1).optional(),
  schemaRegistryUrl: z.url('must be a URL such as http://schema-registry:8081').optional(),
  inputTopic: z.string().min(1).optional(),
  flagsTopic: z.string().min(1).optional(),
  deadLetterTopic: z.string().min(1).optional(),
  scoresTopic: z.string().min(1).optional(),
  emitScores: bool.default(false),
  groupId: z.string().min(1).optional(),
  delivery: z
    .enum(['exactly-once', 'at-least-once'], { error: 'must be exactly-once or at-least-once' })
    .default('exactly-once'),
  keyField: z.string().min(1).optional(),
  eventTimeField: z.string().min(1).optional(),
  topK: int(0, 100).default(5),
  windowMaxLen: int(0, 10_000_000).default(10_000),
  windowSampleRate: z.coerce
    .number({ error: 'must be a number' })
    .min(0, 'must be between 0 and 1')
    .max(1, 'must be between 0 and 1')
    .default(1),
  partitionsConcurrently: int(1, 256).default(4),
  maxBytesPerPartition: int(1024, 256 * 1024 * 1024).default(1024 * 1024),
  sessionTimeoutMs: int(6000, 300_000).default(30_000),
  heartbeatIntervalMs: int(100, 60_000).default(3000),
  transactionTimeoutMs: int(1000, 900_000).default(60_000),
  modelPollMs: int(100, 3_600_000).default(5000),
  fromBeginning: bool.default(true),
  ensureTopics: bool.default(false),
  topicPartitions: int(1, 10_000).default(6),
  metricsPort: int(0, 65_535).default(9464),
  metricsHost: z.string().min(1).default('0.0.0.0'),
  backend: z.enum(['auto', 'cpu', 'wasm', 'tensorflow']).default('auto'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  shutdownTimeoutMs: int(100, 600_000).default(30_000),
});

export type ScorerSettings = z.infer<typeof scorerConfigSchema>;

/** Settings plus the names derived from the pipeline, with overrides applied. */
export interface ScorerConfig extends ScorerSettings {
  names: PipelineNames;
  topics: { input: string; flags: string; deadLetters: string; scores: string };
  group: string;
}

type Key = keyof ScorerSettings;
const KEYS = Object.keys(scorerConfigSchema.shape) as Key[];

export function envName(key: string): string {
  return `SMAE_${key.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
}

export function flagName(key: string): string {
  return key.replace(/([A-Z])/g, '-$1').toLowerCase();
}

/** What `--help` prints: every setting with its variable and default. */
export function describeSettings(): string {
  const lines = KEYS.map((k) => {
    const def = (scorerConfigSchema.shape[k] as z.ZodType).safeParse(undefined);
    const shown = def.success && def.data !== undefined ? ` (default ${JSON.stringify(def.data)})` : '';
    return `  --${flagName(k)} / ${envName(k)}${shown}`;
  });
  return lines.join('\n');
}

/**
 * Reads settings from `env` and `argv` (flags win) and validates them. Throws a ConfigError listing
 * every problem.
 */
export function loadScorerConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): ScorerConfig {
  const raw: Partial<Record<Key, unknown>> = {};
  for (const k of KEYS) {
    const v = env[envName(k)];
    if (v !== undefined && v.trim() !== '') raw[k] = v.trim();
  }
  let parsedArgs: ReturnType<typeof parseArgs>;
  try {
    parsedArgs = parseArgs({
      args: [...argv],
      options: Object.fromEntries(KEYS.map((k) => [flagName(k), { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new ConfigError('invalid scorer command line', [
      { path: 'argv', message: `${(err as Error).message}; run with --help for the accepted flags` },
    ]);
  }
  for (const k of KEYS) {
    const v = parsedArgs.values[flagName(k)];
    if (typeof v === 'string') raw[k] = v;
  }
  return resolveScorerConfig(raw);
}

/** Validates already-collected settings (tests and embedding code call this directly). */
export function resolveScorerConfig(raw: Partial<Record<Key, unknown>>): ScorerConfig {
  const result = scorerConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      'invalid scorer configuration',
      result.error.issues.map((i) => {
        const key = String(i.path[0] ?? '');
        return { path: key ? `${envName(key)} / --${flagName(key)}` : '(root)', message: i.message };
      }),
    );
  }
  const s = result.data;
  const issues: { path: string; message: string }[] = [];
  if (s.schemaIdsDir && s.schemaRegistryUrl) {
    issues.push({
      path: `${envName('schemaRegistryUrl')} / --${flagName('schemaRegistryUrl')}`,
      message: `set either a schema registry URL or ${envName('schemaIdsDir')}, not both`,
    });
  }
  if (s.wireFormat === 'raw' && (s.schemaIdsDir || s.schemaRegistryUrl)) {
    issues.push({
      path: `${envName('wireFormat')} / --${flagName('wireFormat')}`,
      message: 'raw Avro carries no schema id: drop the schema id source or use auto/confluent',
    });
  }
  if (s.heartbeatIntervalMs * 3 > s.sessionTimeoutMs) {
    issues.push({
      path: `${envName('heartbeatIntervalMs')} / --${flagName('heartbeatIntervalMs')}`,
      message: `must be at most a third of the session timeout (${s.sessionTimeoutMs} ms)`,
    });
  }
  if (issues.length > 0) throw new ConfigError('invalid scorer configuration', issues);
  const names = pipelineNames(s.pipeline);
  return {
    ...s,
    names,
    topics: {
      input: s.inputTopic ?? names.topics.records,
      flags: s.flagsTopic ?? names.topics.flags,
      deadLetters: s.deadLetterTopic ?? names.topics.deadLetters,
      scores: s.scoresTopic ?? names.topics.scores,
    },
    group: s.groupId ?? names.groups.scorer,
  };
}
