/**
 * `smae init`: from a CSV file (or Avro records already on a topic) to the files a pipeline needs —
 * `record.avsc`, `features.json`, `smae.env` — and the commands to run next. The guessing is
 * `shared/setup/infer.ts`, the files `shared/setup/files.ts`; this module reads the data and prints.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadCsv } from '../../../shared/data/csv.js';
import { ConfigError, SmaeError } from '../../../shared/errors.js';
import { parseOptions, positiveInt } from '../options.js';
import { commaList } from '../../../shared/config/fields.js';
import { pipelineName } from '../../../shared/config/fields.js';
import { kafkaConnectionFromEnv } from '../../../shared/kafka/client.js';
import { createKafkaPort } from '../../../shared/kafka/ports.js';
import { redisUrlFromEnv } from '../../../shared/redis/client.js';
import { pipelineNames } from '../../../shared/pipeline.js';
import { createLogger } from '../../../shared/log.js';
import {
  loadSchemaFile,
  parseSchema,
  RecordDecoder,
  schemaIdSource,
  type AvroType,
} from '../../../shared/avro/index.js';
import { readLastRecords } from '../../../shared/training/index.js';
import { inferSetup, type InferredSetup } from '../../../shared/setup/infer.js';
import {
  envFileText,
  featuresFileText,
  nextCommands,
  recordSchemaText,
  SETUP_FILES,
  type SetupContext,
} from '../../../shared/setup/files.js';
import { writeSetupFiles } from '../../../shared/setup/write.js';
import { existsSync } from 'node:fs';
import { writeSigningKeyPair } from '../../../shared/registry/signing.js';

const InitOptionsSchema = z
  .object({
    data: z.string().min(1).optional(),
    topic: z.string().min(1).optional(),
    last: positiveInt.default(1000),
    schema: z.string().min(1).optional(),
    schemaRegistry: z.url().optional(),
    schemaDir: z.string().min(1).optional(),
    pipeline: pipelineName('is required: the pipeline name (topics, groups and keys derive from it)'),
    out: z.string().min(1).optional(),
    force: z.boolean(),
    labelColumn: z.string().min(1),
    key: z.string().min(1).optional(),
    eventTime: z.string().min(1).optional(),
    exclude: commaList,
    categorical: commaList,
    maxCategories: positiveInt.default(100),
  })
  .superRefine((o, ctx) => {
    if ((o.data === undefined) === (o.topic === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: 'give either --data FILE.csv or --topic NAME',
      });
    }
    if (o.topic !== undefined && !o.schema && !o.schemaRegistry) {
      ctx.addIssue({
        code: 'custom',
        path: ['schema'],
        message:
          'with --topic: give --schema-registry URL (the subject <topic>-value gives the schema) or --schema FILE.avsc',
      });
    }
    if (o.schemaRegistry && o.schemaDir) {
      ctx.addIssue({
        code: 'custom',
        path: ['schemaDir'],
        message: 'give --schema-registry or --schema-dir, not both',
      });
    }
  });

type InitOptions = z.output<typeof InitOptionsSchema>;

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'infer a record schema, a feature spec and the services’ settings from a CSV file (or records on a topic), ' +
        'write them to a directory, and print the commands to run next',
    )
    .option('--data <file>', 'CSV file with a header row')
    .option('--topic <name>', 'or: sample the last Avro records of this topic')
    .option('--last <n>', 'with --topic: how many records to sample', '1000')
    .option('--schema <file>', 'with --topic: the records’ schema (.avsc)')
    .option(
      '--schema-registry <url>',
      'with --topic: schema registry; the schema is the latest of <topic>-value',
    )
    .option('--schema-dir <dir>', 'with --topic: writer schemas of Confluent-framed records, as <id>.avsc')
    .option('--pipeline <name>', 'the pipeline name (topics, consumer groups and Redis keys derive from it)')
    .option(
      '--out <dir>',
      'where to write record.avsc, features.json and smae.env (default: the pipeline name)',
    )
    .option('--force', 'overwrite files that differ from what init would write', false)
    .option('--label-column <name>', 'a 0/1 label column, never a feature', 'label')
    .option('--key <column>', 'the column that identifies the entity (default: a likely one)')
    .option('--event-time <column>', 'the column holding the event time (default: a likely one)')
    .option('--exclude <cols>', 'comma-separated columns that are not features')
    .option('--categorical <cols>', 'comma-separated columns to treat as categorical')
    .option(
      '--max-categories <n>',
      'text columns with more distinct values are left out as identifiers',
      '100',
    )
    .action(async (raw: Record<string, unknown>) => {
      await runInit(parseOptions(InitOptionsSchema, raw));
    });
}

async function runInit(o: InitOptions): Promise<void> {
  const outDir = o.out ?? o.pipeline;
  const sample = o.data !== undefined ? await csvSample(o.data) : await topicSample(o);
  const setup = inferSetup(sample.columns, sample.rows, {
    labelColumn: o.labelColumn,
    ...(o.key !== undefined ? { key: o.key } : {}),
    ...(o.eventTime !== undefined ? { eventTime: o.eventTime } : {}),
    exclude: o.exclude,
    categorical: o.categorical,
    maxCategories: o.maxCategories,
  });
  const ctx: SetupContext = {
    pipeline: o.pipeline,
    source: o.data ?? `kafka:${o.topic}`,
    ...(o.data !== undefined ? { csvPath: o.data } : {}),
    outDir,
    schemaPath: resolve(outDir, SETUP_FILES.schema),
    featuresPath: resolve(outDir, SETUP_FILES.features),
    kafkaBrokers: kafkaConnectionFromEnv(process.env).brokers.join(','),
    redisUrl: redisUrlFromEnv(process.env),
    ...(o.topic !== undefined && o.topic !== pipelineNames(o.pipeline).topics.records
      ? { inputTopic: o.topic }
      : {}),
    ...(o.schemaRegistry ? { schemaRegistryUrl: o.schemaRegistry } : {}),
    ...(o.schemaDir ? { schemaIdsDir: resolve(o.schemaDir) } : {}),
  };
  // Models are signed: a key pair for this pipeline, made once (an existing pair is kept).
  const keys = signingKeys(outDir, o.pipeline);
  ctx.signingKeyFile = keys.privateKeyFile;
  ctx.trustedKeysFile = keys.publicKeyFile;
  const schemaText = sample.schema
    ? `${JSON.stringify(JSON.parse(sample.schema), null, 2)}\n`
    : recordSchemaText(setup, o.pipeline);
  const outcome = await writeSetupFiles(
    outDir,
    [
      { name: SETUP_FILES.schema, text: schemaText },
      { name: SETUP_FILES.features, text: featuresFileText(setup, ctx.source) },
      { name: SETUP_FILES.env, text: envFileText(setup, ctx) },
    ],
    { force: o.force },
  );
  process.stdout.write(summary(setup, ctx, outcome));
}

function summary(
  s: InferredSetup,
  ctx: SetupContext,
  outcome: { written: string[]; unchanged: string[] },
): string {
  const list = (xs: readonly string[]) => (xs.length > 0 ? xs.join(', ') : '—');
  const lines = [
    `${ctx.source}: ${s.sampleRows} rows looked at`,
    `  numeric      ${list(s.numeric)}`,
    `  categorical  ${list(s.categorical)}`,
    `  key          ${s.keyField ?? '— (flags are keyed by topic:partition:offset; --key COLUMN to choose one)'}`,
    `  event time   ${s.eventTimeField ? `${s.eventTimeField} (${s.eventTimeFormat})` : '— (the Kafka timestamp is used; --event-time COLUMN to choose one)'}`,
    ...(s.nullable.length > 0
      ? [`  missing      values in ${s.nullable.join(', ')}: nullable fields, imputed with the training mean`]
      : []),
    ...(s.leftOut.length > 0 ? ['  left out', ...s.leftOut.map((l) => `    ${l.column}: ${l.reason}`)] : []),
    '',
    ...outcome.written.map((f) => `wrote ${ctx.outDir}/${f}`),
    ...outcome.unchanged.map((f) => `kept ${ctx.outDir}/${f} (unchanged)`),
    '',
    'Next (Kafka on KAFKA_BROKERS and Redis on REDIS_URL running; `npm run infra:up` starts a local Kafka):',
    ...nextCommands(ctx).map((c) => `  ${c}`),
    '',
  ];
  return lines.join('\n');
}

interface Sample {
  columns: string[];
  rows: Record<string, unknown>[];
  /** The records' own schema (JSON text), when sampled from a topic. */
  schema?: string;
}

async function csvSample(path: string): Promise<Sample> {
  // The label stays in the rows here: init reports it as left out instead of dropping it silently.
  const table = await loadCsv(path);
  return { columns: table.columns, rows: table.rows };
}

async function topicSample(o: InitOptions): Promise<Sample> {
  const topic = o.topic!;
  let readerSchema: AvroType;
  let schemaText: string;
  if (o.schema) {
    readerSchema = loadSchemaFile(o.schema);
    schemaText = JSON.stringify(readerSchema.schema({ exportAttrs: true }));
  } else {
    schemaText = await latestSubjectSchema(o.schemaRegistry!, `${topic}-value`);
    readerSchema = parseSchema(schemaText, `${topic}-value`);
  }
  const resolveSchemaId = schemaIdSource({ schemaRegistryUrl: o.schemaRegistry, schemaIdsDir: o.schemaDir });
  const logger = createLogger({ service: 'smae-init', level: 'warn' });
  const kafka = createKafkaPort(kafkaConnectionFromEnv(process.env, { clientId: 'smae-init' }), logger);
  const read = await readLastRecords({
    kafka,
    topic,
    last: o.last,
    decoder: new RecordDecoder({ readerSchema, ...(resolveSchemaId ? { resolveSchemaId } : {}) }),
    groupPrefix: `smae.init.${o.pipeline}`,
    timeoutMs: 60_000,
    logger,
  });
  if (read.records.length === 0) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${topic} gave no decodable records among its last ${o.last}` +
        (read.skipped.length > 0
          ? ` (${read.skipped.length} undecodable: ${`${read.skipped[0]!.code}: ${read.skipped[0]!.message}`})`
          : ''),
    );
  }
  const fields = (readerSchema as unknown as { fields?: { name: string }[] }).fields;
  if (!Array.isArray(fields)) {
    throw new ConfigError('the records’ schema is not an Avro record', [
      { path: topic, message: 'cannot infer fields' },
    ]);
  }
  return { columns: fields.map((f) => f.name), rows: read.records.map((r) => r.value), schema: schemaText };
}

/** `GET /subjects/<subject>/versions/latest` of a Confluent-compatible registry: the schema text. */
async function latestSubjectSchema(url: string, subject: string): Promise<string> {
  const base = url.replace(/\/+$/, '');
  const target = `${base}/subjects/${encodeURIComponent(subject)}/versions/latest`;
  let res: Response;
  try {
    res = await fetch(target, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new SmaeError(
      'INFRA_UNAVAILABLE',
      `schema registry ${base} did not answer: ${(err as Error).message}`,
    );
  }
  if (res.status === 404) {
    throw new ConfigError(`schema registry ${base} has no subject ${subject}`, [
      {
        path: '--schema-registry',
        message: 'register the records’ schema there, or give --schema FILE.avsc',
      },
    ]);
  }
  if (!res.ok)
    throw new SmaeError('INFRA_UNAVAILABLE', `schema registry ${target} answered HTTP ${res.status}`);
  const body = (await res.json()) as { schema?: string };
  if (typeof body.schema !== 'string')
    throw new SmaeError('INFRA_UNAVAILABLE', `${target} returned no schema`);
  return body.schema;
}

/** The pipeline's signing key pair under `DIR/keys/`, made if absent (kept if there: models stay verifiable). */
function signingKeys(outDir: string, pipeline: string): { privateKeyFile: string; publicKeyFile: string } {
  const dir = resolve(outDir, 'keys');
  const privateKeyFile = resolve(dir, `${pipeline}-signing.key`);
  const publicKeyFile = resolve(dir, `${pipeline}-signing.pub`);
  if (!existsSync(privateKeyFile) || !existsSync(publicKeyFile)) {
    writeSigningKeyPair(dir, `${pipeline}-signing`, { force: true });
  }
  return { privateKeyFile, publicKeyFile };
}
