/**
 * The files `smae init` writes for a pipeline, rendered from an `InferredSetup` (pure text, so tests
 * read exactly what a user gets):
 *
 * - `record.avsc`: the input records' Avro schema (key, event time, then the features; a feature with
 *   missing values is nullable);
 * - `features.json`: the feature spec the model trains with (`smae train --features`), plus what
 *   `init` decided about the other columns, for the user to read and edit;
 * - `smae.env`: every setting the services read, commented, for `node --env-file` or `set -a; . FILE`;
 *
 * and the commands to run next.
 */
import { columnsSchemaObject } from '../avro/schemas.js';
import type { FeatureSpec } from '../preprocessing/spec.js';
import { pipelineNames } from '../pipeline.js';
import type { InferredSetup, LeftOutColumn, TimeFormat } from './infer.js';

export const SETUP_FILES = {
  schema: 'record.avsc',
  features: 'features.json',
  env: 'smae.env',
} as const;

export interface SetupContext {
  pipeline: string;
  /** Where the data came from, as the user named it (`orders.csv`, `kafka:orders.records`). */
  source: string;
  /** The CSV file, when the data is one (the next commands train on it and replay it). */
  csvPath?: string;
  /** The output directory as the user named it (used in printed commands). */
  outDir: string;
  /** Absolute path of the written record schema (services read it from any working directory). */
  schemaPath: string;
  /** Absolute path of the written feature spec. */
  featuresPath: string;
  kafkaBrokers: string;
  redisUrl: string;
  /** The topic the records are on, when not `<pipeline>.records` (sampled with `--topic`). */
  inputTopic?: string;
  /** How input records are framed, and where Confluent schema ids resolve (from `--topic` sampling). */
  wireFormat?: 'auto' | 'confluent' | 'raw';
  schemaRegistryUrl?: string;
  schemaIdsDir?: string;
  /** Absolute paths of the model-signing key pair `smae init` made (publishers sign, readers verify). */
  signingKeyFile?: string;
  trustedKeysFile?: string;
}

/** The contents of `features.json`: a feature spec, plus notes that readers ignore. */
export interface FeaturesFile extends FeatureSpec {
  keyField: string | null;
  eventTimeField: string | null;
  eventTimeFormat: TimeFormat | null;
  labelColumn: string | null;
  leftOut: LeftOutColumn[];
  inferredFrom: { source: string; rows: number };
}

/** An Avro record name for a pipeline: `payments-eu.v2` → `PaymentsEuV2Record`. */
export function recordName(pipeline: string): string {
  const words = pipeline.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[A-Za-z_]/.test(name) ? `${name}Record` : `P${name}Record`;
}

export function recordSchemaText(setup: InferredSetup, pipeline: string): string {
  const schema = columnsSchemaObject({
    name: recordName(pipeline),
    namespace: 'smae.user',
    numeric: setup.numeric,
    categorical: setup.categorical,
    nullable: setup.nullable,
    ...(setup.keyField ? { keyField: setup.keyField } : {}),
    ...(setup.eventTimeField ? { timeField: setup.eventTimeField } : {}),
  });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function featuresFileText(setup: InferredSetup, source: string): string {
  const file: FeaturesFile = {
    ...setup.spec,
    keyField: setup.keyField,
    eventTimeField: setup.eventTimeField,
    eventTimeFormat: setup.eventTimeFormat,
    labelColumn: setup.labelColumn,
    leftOut: setup.leftOut,
    inferredFrom: { source, rows: setup.sampleRows },
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** `smae.env`: one commented block per concern; optional settings are written commented out. */
export function envFileText(setup: InferredSetup, ctx: SetupContext): string {
  const names = pipelineNames(ctx.pipeline);
  const t = names.topics;
  const line = (key: string, value: string | undefined, on = true) =>
    `${on && value !== undefined ? '' : '# '}${key}=${value ?? ''}`;
  const lines = [
    `# Settings of pipeline "${ctx.pipeline}", written by smae init from ${ctx.source}.`,
    '# Every service reads them from its environment (flags win):',
    `#   npx tsx --env-file=${ctx.outDir}/smae.env services/scorer/main.ts`,
    `#   set -a; . ${ctx.outDir}/smae.env; set +a      (a shell)`,
    '# A variable already set in the environment wins over this file.',
    '',
    '## Connections',
    '# Kafka bootstrap servers, host:port,… (TLS: KAFKA_SSL=true, KAFKA_SSL_CA_FILE=…; SASL: KAFKA_SASL_MECHANISM=plain|scram-sha-256|scram-sha-512,',
    '# KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD).',
    line('KAFKA_BROKERS', ctx.kafkaBrokers),
    '# Redis: the model registry, the scorer’s recent window, the adapter’s jobs (rediss:// for TLS).',
    line('REDIS_URL', ctx.redisUrl),
    '',
    '## Model signing',
    '# Publishers (smae train, the trainer, the adapter) sign every model with this Ed25519 private key;',
    '# readers (scorer, adapter, smae models) load only models signed by a trusted public key (several: comma-separated).',
    line('SMAE_SIGNING_KEY_FILE', ctx.signingKeyFile, ctx.signingKeyFile !== undefined),
    line('SMAE_TRUSTED_KEYS', ctx.trustedKeysFile, ctx.trustedKeysFile !== undefined),
    '',
    '## The pipeline',
    `# Names the topics (${t.records}, ${t.flags}, ${t.scores}, ${t.deadLetters}, ${t.modelUpdates}),`,
    `# consumer groups, transactional ids and Redis keys (${names.redisPrefix}…).`,
    line('SMAE_PIPELINE', ctx.pipeline),
    '# Create the pipeline’s topics at start when missing (false: they must exist; the services say which are missing).',
    line('SMAE_ENSURE_TOPICS', 'true'),
    '# Partitions of the topics created (the most scorer processes that can share the work).',
    line('SMAE_TOPIC_PARTITIONS', '6'),
    '',
    '## Input records',
    '# The reader schema of the records on the input topic.',
    line('SMAE_RECORD_SCHEMA', ctx.schemaPath),
    `# The topic the records are on (default ${t.records}).`,
    line('SMAE_INPUT_TOPIC', ctx.inputTopic ?? t.records, ctx.inputTopic !== undefined),
    '# auto: Confluent-framed (magic byte + schema id) or raw Avro, per record; confluent; raw.',
    line('SMAE_WIRE_FORMAT', ctx.wireFormat ?? 'auto'),
    '# Where Confluent schema ids resolve to writer schemas: a schema registry, or a directory of <id>.avsc files (not both).',
    line(
      'SMAE_SCHEMA_REGISTRY_URL',
      ctx.schemaRegistryUrl ?? 'http://localhost:8081',
      ctx.schemaRegistryUrl !== undefined,
    ),
    line('SMAE_SCHEMA_IDS_DIR', ctx.schemaIdsDir ?? './schemas', ctx.schemaIdsDir !== undefined),
    '# The field whose value keys the flags (alerts group by it), and the field holding the event time.',
    line('SMAE_KEY_FIELD', setup.keyField ?? 'id', setup.keyField !== null),
    line('SMAE_EVENT_TIME_FIELD', setup.eventTimeField ?? 'eventTime', setup.eventTimeField !== null),
    '',
    '## Model',
    `# The feature spec the trainer uses (smae train --features; edit it, then retrain).`,
    line('SMAE_FEATURES', ctx.featuresPath),
    ...(ctx.csvPath !== undefined
      ? [
          '# The trainer service’s training data (a CSV file; or SMAE_TOPIC with SMAE_LAST).',
          line('SMAE_DATA', ctx.csvPath),
        ]
      : [
          '# The trainer service’s training data: the last SMAE_LAST records of SMAE_TOPIC (or SMAE_DATA, a CSV file).',
          line('SMAE_TOPIC', ctx.inputTopic ?? t.records),
          line('SMAE_LAST', '50000'),
        ]),
    '# TensorFlow.js backend: auto (tfjs-node when installed, else cpu), cpu, wasm, tensorflow.',
    line('SMAE_BACKEND', 'auto'),
    '',
    '## Scorer',
    '# exactly-once (one transaction per batch: outputs + offsets) or at-least-once.',
    line('SMAE_DELIVERY', 'exactly-once'),
    `# Also write every record's score to ${t.scores}.`,
    line('SMAE_EMIT_SCORES', 'false'),
    '# Features named in each flag (the largest contributors to its error).',
    line('SMAE_TOP_K', '5'),
    '',
    '## Operations',
    '# /metrics, /healthz, /readyz. Each process needs its own port: the defaults are scorer 9464,',
    '# adapter 9467, trainer 9466; set it per process when several run on one host (--metrics-port N).',
    line('SMAE_METRICS_PORT', '9464', false),
    line('SMAE_METRICS_HOST', '0.0.0.0'),
    '# fatal, error, warn, info, debug, trace, silent (JSON lines on stderr).',
    line('SMAE_LOG_LEVEL', 'info'),
    '',
  ];
  return lines.join('\n');
}

/** The commands to run next, in order, as printed by `smae init` (and as in the README). */
export function nextCommands(ctx: SetupContext): string[] {
  const env = `${ctx.outDir}/smae.env`;
  const data = ctx.csvPath;
  const train = data
    ? `npx smae train --data ${data} --pipeline ${ctx.pipeline} --features ${ctx.outDir}/features.json --env-file ${env}`
    : `npx smae train --topic ${ctx.inputTopic ?? pipelineNames(ctx.pipeline).topics.records} --last 50000 --schema ${ctx.outDir}/record.avsc --pipeline ${ctx.pipeline} --features ${ctx.outDir}/features.json --env-file ${env}`;
  const cmds = [
    train,
    `npx tsx --env-file=${env} services/scorer/main.ts 2> ${ctx.outDir}/scorer.log &`,
    `npx tsx --env-file=${env} services/adapter/main.ts 2> ${ctx.outDir}/adapter.log &`,
  ];
  if (data) cmds.push(`npx smae produce --data ${data} --env-file ${env}`);
  cmds.push(`npx smae flags --pipeline ${ctx.pipeline} --from-beginning --limit 10`);
  return cmds;
}
