/**
 * `smae flags`: prints a pipeline's flags as the scorer committed them (only flags of committed
 * transactions: the port's committed reader), one line each, and stops after `--limit` flags or
 * `--timeout`. A throwaway consumer group, nothing committed: reading changes nothing for other readers.
 * For alerting (suppression per key, webhooks) use `smae alerts`.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { z } from 'zod';
import { RecordDecoder } from '../../../shared/avro/decoder.js';
import { FLAG_SCHEMA, type FlagRecord } from '../../../shared/avro/schemas.js';
import { duration, int, pipelineName } from '../../../shared/config/fields.js';
import { parseOptions } from '../options.js';
import { kafkaConnectionFromEnv } from '../../../shared/kafka/client.js';
import { createKafkaPort } from '../../../shared/kafka/ports.js';
import { requireTopics } from '../../../shared/kafka/preflight.js';
import { createLogger } from '../../../shared/log.js';
import { pipelineNames } from '../../../shared/pipeline.js';

const FlagsOptionsSchema = z.object({
  pipeline: pipelineName('is required (--pipeline or SMAE_PIPELINE)'),
  topic: z.string().min(1).optional(),
  fromBeginning: z.boolean().default(false),
  limit: int(1, 1_000_000_000).optional(),
  timeout: duration(100).default(60_000),
  json: z.boolean().default(false),
});

type FlagsOptions = z.output<typeof FlagsOptionsSchema>;

export function registerFlags(program: Command): void {
  program
    .command('flags')
    .description("print a pipeline's flags (committed ones only), then stop after --limit flags or --timeout")
    .option('--pipeline <name>', 'pipeline (or SMAE_PIPELINE)')
    .option('--topic <name>', 'flags topic (default <pipeline>.flags)')
    .option('--from-beginning', 'start at the oldest flag (default: only new ones)')
    .option('--limit <n>', 'stop after this many flags')
    .option('--timeout <duration>', 'stop after this long, e.g. 30s, 5m (default 60s)')
    .option('--json', 'one JSON object per flag')
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseOptions(FlagsOptionsSchema, {
        ...raw,
        pipeline: raw.pipeline ?? (process.env.SMAE_PIPELINE?.trim() || undefined),
      });
      await runFlags(opts);
    });
}

async function runFlags(o: FlagsOptions): Promise<void> {
  const topic = o.topic ?? pipelineNames(o.pipeline).topics.flags;
  const logger = createLogger({ service: 'smae-flags', level: 'warn' });
  const kafka = createKafkaPort(kafkaConnectionFromEnv(process.env, { clientId: 'smae-flags' }), logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await requireTopics(admin, [topic], {
      ensureSetting: 'SMAE_ENSURE_TOPICS=true on the scorer',
      who: 'smae flags',
    });
  } finally {
    await admin.disconnect();
  }
  const decoder = new RecordDecoder({ readerSchema: FLAG_SCHEMA, resolveSchemaId: () => FLAG_SCHEMA });
  let printed = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const timer = setTimeout(done, o.timeout);
  const reader = kafka.committedReader({
    groupId: `smae.flags.${randomUUID()}`,
    topics: [topic],
    fromBeginning: o.fromBeginning,
    commit: false,
    logger,
    onRecords: async (_topic, _partition, records) => {
      for (const m of records) {
        if (o.limit !== undefined && printed >= o.limit) break;
        let flag: FlagRecord;
        try {
          flag = (await decoder.decodeAsync(m.value)).value as unknown as FlagRecord;
        } catch {
          continue;
        }
        process.stdout.write(`${o.json ? JSON.stringify(flag, bigintToNumber) : formatFlag(flag)}\n`);
        printed++;
      }
      if (o.limit !== undefined && printed >= o.limit) done();
    },
  });
  try {
    await reader.connect();
    await reader.run();
    await finished;
  } finally {
    clearTimeout(timer);
    await reader.disconnect().catch(() => undefined);
  }
  process.stderr.write(`${printed} flag(s) from ${topic}\n`);
}

function formatFlag(f: FlagRecord): string {
  const top = f.topFeatures
    .slice(0, 3)
    .map((c) => `${c.name}=${round(c.value)} (expected ${round(c.expected)}, ${Math.round(c.share * 100)}%)`)
    .join(', ');
  const when = Number.isFinite(Number(f.eventTime)) ? new Date(Number(f.eventTime)).toISOString() : '';
  return `${when} key=${f.key ?? '—'} score=${round(f.score)} > ${round(f.threshold)} v${f.modelVersion ?? '?'}  ${top}`;
}

function round(x: number): string {
  return Number(x).toPrecision(4);
}

function bigintToNumber(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}
