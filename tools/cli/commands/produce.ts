/**
 * `smae produce`: replays a CSV file onto a pipeline's input topic as Avro records of its record schema
 * (raw Avro, keyed by the key field when there is one), so a pipeline set up by `smae init` can be tried
 * end to end. Settings come from flags or the pipeline's settings (`--env-file DIR/smae.env`, or the
 * environment): SMAE_PIPELINE, SMAE_RECORD_SCHEMA, SMAE_INPUT_TOPIC, SMAE_KEY_FIELD, SMAE_ENSURE_TOPICS,
 * SMAE_TOPIC_PARTITIONS.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { encodeRecord, loadSchemaFile } from '../../../shared/avro/index.js';
import { bool, int, pipelineName } from '../../../shared/config/fields.js';
import { loadCsv } from '../../../shared/data/csv.js';
import { rowConverter } from '../../../shared/data/to-record.js';
import { ConfigError } from '../../../shared/errors.js';
import { loadEnvFile, parseOptions } from '../options.js';
import { kafkaConnectionFromEnv } from '../../../shared/kafka/client.js';
import { createKafkaPort } from '../../../shared/kafka/ports.js';
import { requireTopics } from '../../../shared/kafka/preflight.js';
import { ensurePipelineTopics } from '../../../shared/kafka/topics.js';
import { createLogger } from '../../../shared/log.js';
import { pipelineNames } from '../../../shared/pipeline.js';

const ProduceOptionsSchema = z.object({
  data: z.string({ error: 'is required: the CSV file to replay' }).min(1),
  pipeline: pipelineName('is required (--pipeline or SMAE_PIPELINE)'),
  schema: z.string({ error: 'is required (--schema or SMAE_RECORD_SCHEMA): the record schema .avsc' }).min(1),
  topic: z.string().min(1).optional(),
  keyField: z.string().min(1).optional(),
  ensureTopics: bool.default(false),
  partitions: int(1, 10_000).default(6),
  limit: int(1, 1_000_000_000).optional(),
  batchSize: int(1, 100_000).default(500),
});

type ProduceOptions = z.output<typeof ProduceOptionsSchema>;

export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description("replay a CSV file onto a pipeline's input topic as Avro records of its record schema")
    .option('--data <file>', 'CSV file with a header row (columns named like the schema’s fields)')
    .option('--env-file <file>', 'read settings from this file first (smae init writes DIR/smae.env)')
    .option('--pipeline <name>', 'pipeline (or SMAE_PIPELINE)')
    .option('--schema <file>', 'record schema .avsc (or SMAE_RECORD_SCHEMA)')
    .option('--topic <name>', 'topic (or SMAE_INPUT_TOPIC; default <pipeline>.records)')
    .option(
      '--key-field <name>',
      'field whose value is the Kafka key (or SMAE_KEY_FIELD; default: the line number)',
    )
    .option('--ensure-topics', "create the pipeline's topics when missing (or SMAE_ENSURE_TOPICS)")
    .option('--partitions <n>', 'partitions of topics created (or SMAE_TOPIC_PARTITIONS; default 6)')
    .option('--limit <n>', 'produce at most this many rows')
    .action(async (raw: Record<string, unknown>) => {
      if (typeof raw.envFile === 'string') loadEnvFile(raw.envFile);
      const env = process.env;
      const pick = (flag: unknown, name: string) => flag ?? (env[name]?.trim() || undefined);
      const opts = parseOptions(ProduceOptionsSchema, {
        data: raw.data,
        pipeline: pick(raw.pipeline, 'SMAE_PIPELINE'),
        schema: pick(raw.schema, 'SMAE_RECORD_SCHEMA'),
        topic: pick(raw.topic, 'SMAE_INPUT_TOPIC'),
        keyField: pick(raw.keyField, 'SMAE_KEY_FIELD'),
        ensureTopics: pick(raw.ensureTopics, 'SMAE_ENSURE_TOPICS'),
        partitions: pick(raw.partitions, 'SMAE_TOPIC_PARTITIONS'),
        limit: raw.limit,
      });
      await runProduce(opts);
    });
}

async function runProduce(o: ProduceOptions): Promise<void> {
  const started = performance.now();
  const type = loadSchemaFile(o.schema);
  const table = await loadCsv(o.data);
  const toRecord = rowConverter(type, o.data, JSON.parse(readFileSync(o.schema, 'utf8')));
  const fields = new Set(
    ((type.schema() as { fields?: { name: string }[] }).fields ?? []).map((f) => f.name),
  );
  if (o.keyField !== undefined && !fields.has(o.keyField)) {
    throw new ConfigError('invalid produce settings', [
      { path: 'SMAE_KEY_FIELD / --key-field', message: `"${o.keyField}" is not a field of ${o.schema}` },
    ]);
  }
  const names = pipelineNames(o.pipeline);
  const topic = o.topic ?? names.topics.records;
  const rows = o.limit !== undefined ? table.rows.slice(0, o.limit) : table.rows;
  // Encode everything first: a bad line stops the run before anything is sent.
  const messages = rows.map((row, i) => {
    const record = toRecord(row, i + 2);
    const key = o.keyField !== undefined ? String(record[o.keyField]) : String(i + 1);
    return { key, value: encodeRecord(type, record) };
  });

  const logger = createLogger({ service: 'smae-produce', level: 'warn' });
  const kafka = createKafkaPort(kafkaConnectionFromEnv(process.env, { clientId: 'smae-produce' }), logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (o.ensureTopics && topic === names.topics.records) {
      await ensurePipelineTopics(admin, names, { partitions: o.partitions, logger });
    } else {
      await requireTopics(admin, [topic], {
        ensureSetting: 'SMAE_ENSURE_TOPICS=true (or --ensure-topics)',
        partitions: o.partitions,
        who: 'smae produce',
      });
    }
  } finally {
    await admin.disconnect();
  }
  // Idempotent, acknowledged by all in-sync replicas, partitioned by key.
  const producer = kafka.producer();
  try {
    for (let i = 0; i < messages.length; i += o.batchSize) {
      await producer.send([{ topic, records: messages.slice(i, i + o.batchSize) }]);
    }
  } finally {
    await producer.close();
  }
  const keys = new Set(messages.map((m) => m.key)).size;
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `produced ${messages.length} records to ${topic} (${keys} distinct keys) in ${seconds.toFixed(1)} s\n`,
  );
}
