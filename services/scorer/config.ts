/**
 * Scorer configuration: environment variables (`SMAE_*`) and command-line flags (`--kebab-case`, which
 * win), validated once at start into a typed `ScorerConfig`. Every problem is reported at once, naming
 * both the variable and the flag and saying what would be accepted.
 *
 * Kafka and Redis connections are read separately (`KAFKA_*` via shared/kafka, `REDIS_URL` via
 * shared/redis), as every service reads them.
 */
import { z } from 'zod';
import * as f from '../../shared/config/fields.js';
import { configKeys, defineServiceConfig, type ConfigIssue } from '../../shared/config/service-config.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';
import { DEFAULT_WINDOW_MAX_LEN, DEFAULT_WINDOW_MAX_PER_SECOND } from '../../shared/scoring/window.js';

export { envName, flagName } from '../../shared/config/service-config.js';

const { bool, int } = f;

export const scorerConfigSchema = z.object({
  pipeline: f.pipelineName(),
  recordSchema: z.string({ error: 'is required: the path of the input records’ .avsc file' }).min(1),
  wireFormat: f.wireFormat,
  schemaIdsDir: f.schemaIdsDir,
  schemaRegistryUrl: f.schemaRegistryUrl,
  inputTopic: z.string().min(1).optional(),
  flagsTopic: z.string().min(1).optional(),
  deadLetterTopic: z.string().min(1).optional(),
  scoresTopic: z.string().min(1).optional(),
  emitScores: bool.default(false),
  groupId: z.string().min(1).optional(),
  delivery: z
    .enum(['exactly-once', 'at-least-once'], { error: 'must be exactly-once or at-least-once' })
    .default('exactly-once'),
  /**
   * Exactly-once: one transaction per input partition (any client), or per group member, all its
   * partitions' batches together (needs KAFKA_CLIENT=confluent: `member-delivery.ts`).
   */
  transactionScope: z
    .enum(['partition', 'member'], { error: 'must be partition or member' })
    .default('partition'),
  /**
   * A stable name, unique in the group, for this scorer instance (a StatefulSet pod's name): with
   * transactionScope=member, part of its transactional id, so a restart aborts what the last run left
   * open at once. Default: random per start.
   */
  instanceId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, "must be 1–100 letters, digits, '.', '_' or '-'")
    .optional(),
  keyField: z.string().min(1).optional(),
  eventTimeField: z.string().min(1).optional(),
  topK: int(0, 100).default(5),
  windowMaxLen: int(0, 10_000_000).default(DEFAULT_WINDOW_MAX_LEN),
  windowSampleRate: z.coerce
    .number({ error: 'must be a number' })
    .min(0, 'must be between 0 and 1')
    .max(1, 'must be between 0 and 1')
    .default(1),
  /** Window entries written per second at most (0: no limit); a uniform sample of each batch beyond it. */
  windowMaxPerSecond: int(0, 10_000_000).default(DEFAULT_WINDOW_MAX_PER_SECOND),
  partitionsConcurrently: int(1, 256).default(4),
  maxBytesPerPartition: int(1024, 256 * 1024 * 1024).default(1024 * 1024),
  /** Bytes one fetch may return over all partitions (kafkajs maxBytes): bounds what batches hold in memory. */
  fetchMaxBytes: int(1024, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  fetchMaxWaitMs: int(0, 60_000).default(500),
  /** Larger records go to the dead-letter topic without being decoded. */
  maxRecordBytes: int(1, 1024 * 1024 * 1024).default(1024 * 1024),
  /** Input records and bytes per transaction: a large fetch becomes several short transactions. */
  maxTransactionRecords: int(1, 1_000_000).default(2000),
  maxTransactionBytes: int(1024, 1024 * 1024 * 1024).default(512 * 1024),
  /** An upper bound on the bytes of one produce to an output topic, below the topics' max.message.bytes. */
  maxSendBytes: int(1024, 1024 * 1024 * 1024).default(1024 * 1024),
  /** A partition with waiting records that has not advanced for this long fails readiness. */
  stallTimeoutMs: int(1000, 86_400_000).default(120_000),
  /** First retry delay of the transactional producers (kafkajs default 300 ms, doubling). */
  producerRetryInitialMs: int(1, 10_000).default(5),
  producerRetryMaxMs: int(10, 60_000).default(1000),
  sessionTimeoutMs: int(6000, 300_000).default(30_000),
  heartbeatIntervalMs: int(100, 60_000).default(3000),
  transactionTimeoutMs: int(1000, 900_000).default(60_000),
  modelPollMs: int(100, 3_600_000).default(5000),
  fromBeginning: bool.default(true),
  ensureTopics: bool.default(false),
  topicPartitions: int(1, 10_000).default(6),
  metricsPort: f.metricsPort(9464),
  metricsHost: f.metricsHost,
  backend: f.backend,
  logLevel: f.logLevel,
  shutdownTimeoutMs: f.shutdownTimeoutMs(),
});

export type ScorerSettings = z.infer<typeof scorerConfigSchema>;

/** Settings plus the names derived from the pipeline, with overrides applied. */
export interface ScorerConfig extends ScorerSettings {
  names: PipelineNames;
  topics: { input: string; flags: string; deadLetters: string; scores: string };
  group: string;
}

const scorerConfig = defineServiceConfig({
  service: 'scorer',
  schema: scorerConfigSchema,
  keys: configKeys(scorerConfigSchema),
  check: (s, keys) => {
    const issues: ConfigIssue[] = [];
    if (s.schemaIdsDir && s.schemaRegistryUrl) {
      issues.push({
        path: keys.where('schemaRegistryUrl'),
        message: `set either a schema registry URL or ${keys.env('schemaIdsDir')}, not both`,
      });
    }
    if (s.wireFormat === 'raw' && (s.schemaIdsDir || s.schemaRegistryUrl)) {
      issues.push({
        path: keys.where('wireFormat'),
        message: 'raw Avro carries no schema id: drop the schema id source or use auto/confluent',
      });
    }
    if (s.transactionScope === 'member' && s.delivery !== 'exactly-once') {
      issues.push({
        path: keys.where('transactionScope'),
        message: 'member applies to exactly-once delivery only: drop it or use exactly-once',
      });
    }
    if (s.heartbeatIntervalMs * 3 > s.sessionTimeoutMs) {
      issues.push({
        path: keys.where('heartbeatIntervalMs'),
        message: `must be at most a third of the session timeout (${s.sessionTimeoutMs} ms)`,
      });
    }
    return issues;
  },
});

/** What `--help` prints: every setting with its variable and default. */
export const describeSettings = (): string => scorerConfig.describe();

/** Reads settings from `env` and `argv` (flags win); throws a ConfigError listing every problem. */
export const loadScorerConfig = (env: NodeJS.ProcessEnv, argv: readonly string[] = []): ScorerConfig =>
  withNames(scorerConfig.load({ env, argv }));

/** Validates already-collected settings (tests and embedding code call this directly). */
export const resolveScorerConfig = (raw: Partial<Record<keyof ScorerSettings, unknown>>): ScorerConfig =>
  withNames(scorerConfig.resolve(raw));

function withNames(s: ScorerSettings): ScorerConfig {
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
