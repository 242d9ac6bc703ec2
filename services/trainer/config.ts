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
import { z } from 'zod';
import * as f from '../../shared/config/fields.js';
import { configKeys, defineServiceConfig, type ConfigIssue } from '../../shared/config/service-config.js';
import { pipelineNames } from '../../shared/pipeline.js';
import { trainingOptions } from '../../shared/training/index.js';
import { loadFeatureSpecFile } from '../../shared/preprocessing/spec-file.js';
import { DEFAULT_PROFILE, PROFILE_NAMES } from '../../shared/model/profile.js';
import { policyKindOption, targetFprOption } from '../../shared/threshold/policy.js';
import { TRAINER_DEFAULTS, type TrainerServiceConfig } from './app.js';

export { envName, flagName } from '../../shared/config/service-config.js';

const { bool, int } = f;

const list = f.commaList;

export const trainerConfigSchema = z.object({
  pipeline: f.pipelineName(),
  data: z.string().min(1).optional(),
  topic: z.string().min(1).optional(),
  last: int(2, 100_000_000).default(50_000),
  recordSchema: z.string().min(1).optional(),
  wireFormat: f.wireFormat,
  schemaIdsDir: f.schemaIdsDir,
  schemaRegistryUrl: f.schemaRegistryUrl,
  labelColumn: z.string().min(1).default('label'),
  /** A feature spec file (smae init's features.json): replaces exclude/categorical/scale/impute. */
  features: z.string().min(1).optional(),
  exclude: list,
  categorical: list,
  /** Absent: the profile's scaler. */
  scale: z.enum(['none', 'standard', 'minmax']).optional(),
  impute: z.enum(['error', 'mean', 'zero']).default('error'),
  epochs: int(1, 100_000).default(30),
  batchSize: int(1, 1_000_000).default(32),
  learningRate: z.coerce.number({ error: 'must be a number' }).positive('must be > 0').optional(),
  percentile: z.coerce
    .number({ error: 'must be a number' })
    .gt(0, 'must be in (0, 100]')
    .lte(100)
    .default(95),
  thresholdPolicy: policyKindOption.optional(),
  targetFpr: targetFprOption.optional(),
  seed: int(0, 2 ** 32 - 1).optional(),
  backend: f.backend,
  profile: z.enum(PROFILE_NAMES).default(DEFAULT_PROFILE),
  intervalMs: int(0, 30 * 24 * 3600_000).default(TRAINER_DEFAULTS.intervalMs),
  runOnStart: bool.default(true),
  retryMs: int(1000, 24 * 3600_000).default(TRAINER_DEFAULTS.retryMs),
  lockTtlMs: int(1000, 3600_000).default(TRAINER_DEFAULTS.lockTtlMs),
  readTimeoutMs: int(1000, 3600_000).default(TRAINER_DEFAULTS.readTimeoutMs),
  historyLimit: int(1, 100_000).default(50),
  metricsPort: f.metricsPort(TRAINER_DEFAULTS.port),
  metricsHost: f.metricsHost,
  logLevel: f.logLevel,
  shutdownTimeoutMs: f.shutdownTimeoutMs(),
});

export type TrainerSettings = z.infer<typeof trainerConfigSchema>;

export interface LoadedTrainerConfig {
  settings: TrainerSettings;
  service: TrainerServiceConfig;
}

const trainerConfig = defineServiceConfig({
  service: 'trainer',
  schema: trainerConfigSchema,
  keys: configKeys(trainerConfigSchema),
  check: (s, keys) => {
    const issues: ConfigIssue[] = [];
    if (s.data !== undefined && s.topic !== undefined) {
      issues.push({
        path: keys.where('data'),
        message: `set either a CSV file or ${keys.env('topic')}, not both`,
      });
    }
    if (s.data === undefined && s.recordSchema === undefined) {
      issues.push({
        path: keys.where('recordSchema'),
        message: `is required to train from a topic (the .avsc the scorer reads); or set ${keys.env('data')} to a CSV file`,
      });
    }
    if (s.schemaIdsDir && s.schemaRegistryUrl) {
      issues.push({
        path: keys.where('schemaRegistryUrl'),
        message: `set either this or ${keys.env('schemaIdsDir')}, not both`,
      });
    }
    return issues;
  },
});

export const describeSettings = (): string => trainerConfig.describe();

export const loadTrainerConfig = (
  env: NodeJS.ProcessEnv,
  argv: readonly string[] = [],
): LoadedTrainerConfig => toServiceConfig(trainerConfig.load({ env, argv }));

export const resolveTrainerConfig = (
  raw: Partial<Record<keyof TrainerSettings, unknown>>,
): LoadedTrainerConfig => toServiceConfig(trainerConfig.resolve(raw));

/** The settings as the trainer service's options. */
function toServiceConfig(s: TrainerSettings): LoadedTrainerConfig {
  const names = pipelineNames(s.pipeline);
  const service: TrainerServiceConfig = {
    pipeline: s.pipeline,
    source:
      s.data !== undefined
        ? { kind: 'csv', path: s.data }
        : { kind: 'topic', topic: s.topic ?? names.topics.records, last: s.last },
    training: trainingOptions({
      ...s,
      ...(s.features !== undefined ? { featureSpec: loadFeatureSpecFile(s.features) } : {}),
    }),
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
