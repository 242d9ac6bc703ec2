/**
 * `npm run bench:scorer-memory`: the scorer's resident memory (RSS) while it works off a burst of large
 * records, with the default bounds on what a batch may hold (fetch bytes, bytes per transaction) and,
 * as the same-run baseline, with those bounds opened wide. Each mode runs in its own child process
 * (RSS does not shrink back after a run), against the local broker and Redis.
 *
 * Environment: SMAE_BENCH_LARGE_RECORDS (default 60), SMAE_BENCH_LARGE_BYTES (record size, 800000).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundledSchemaPath, staticSchemaIds, TRANSACTION_SCHEMA } from '../../shared/avro/index.js';
import { createKafka, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { kafkajsPort } from '../../shared/kafka/kafkajs-adapter.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { kafkajsAdmin } from '../../shared/kafka/kafkajs-admin.js';
import { silentLogger } from '../../shared/log.js';
import { Detector } from '../../shared/model/index.js';
import { pipelineNames } from '../../shared/pipeline.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { buildScorer } from '../../services/scorer/app.js';
import { resolveScorerConfig } from '../../services/scorer/config.js';
import {
  TRANSACTION_SCHEMA_ID,
  encodeTransaction,
  normalTransaction,
  rng,
  tinyModelArtifact,
} from '../fixtures/transactions.js';

const RECORDS = Number(process.env.SMAE_BENCH_LARGE_RECORDS ?? 60);
const BYTES = Number(process.env.SMAE_BENCH_LARGE_BYTES ?? 800_000);
const MB = 1024 * 1024;
const say = (s: string): void => void process.stdout.write(`${s}\n`);

const MODES = {
  bounded: {}, // the scorer's defaults
  wide: { fetchMaxBytes: 512 * MB, maxBytesPerPartition: 256 * MB, maxTransactionBytes: 512 * MB },
} as const;
type Mode = keyof typeof MODES;

async function runMode(mode: Mode): Promise<void> {
  const env = { ...process.env, KAFKA_LOG_LEVEL: 'nothing' };
  const kafka = createKafka(kafkaConnectionFromEnv(env, { clientId: `bench-memory-${mode}` }));
  const redis = createRedis(redisUrlFromEnv(process.env), { logger: silentLogger });
  const names = pipelineNames(`bench-mem-${mode}-${Date.now()}`);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensurePipelineTopics(kafkajsAdmin(admin), names, { partitions: 1, replicationFactor: 1 });
    const registry = new ModelRegistry({ redis, pipeline: names.name });
    await registry.publish(await tinyModelArtifact({ seed: 3 }), { publishedBy: 'bench', reason: 'memory' });

    // The burst is on the topic before the scorer starts: valid records with a huge account id.
    const r = rng(1);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let i = 0; i < RECORDS; i++) {
      const value = encodeTransaction({ ...normalTransaction(i, r), accountId: 'a'.repeat(BYTES) });
      await producer.send({ topic: names.topics.records, acks: -1, messages: [{ key: `k${i}`, value }] });
    }
    await producer.disconnect();

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    let scored = 0;
    const started = Date.now();
    const config = resolveScorerConfig({
      pipeline: names.name,
      recordSchema: bundledSchemaPath('transaction'),
      metricsPort: 0,
      windowMaxLen: 0,
      ...MODES[mode],
    });
    const scorer = buildScorer(config, {
      kafka: kafkajsPort(kafka),
      redis: null,
      models: registry,
      loadModel: (a) => Detector.fromArtifact(a),
      readerSchema: TRANSACTION_SCHEMA,
      resolveSchemaId: staticSchemaIds({ [TRANSACTION_SCHEMA_ID]: TRANSACTION_SCHEMA }),
      onBatch: (b) => void (scored += b.records),
    });
    await scorer.start();
    while (scored < RECORDS && Date.now() - started < 180_000)
      await new Promise((res) => setTimeout(res, 50));
    clearInterval(sampler);
    await scorer.stop();
    say(
      JSON.stringify({
        mode,
        records: scored,
        rssBeforeMB: +(rssBefore / MB).toFixed(1),
        rssPeakMB: +(peak / MB).toFixed(1),
        growthMB: +((peak - rssBefore) / MB).toFixed(1),
        seconds: +((Date.now() - started) / 1000).toFixed(1),
      }),
    );
  } finally {
    await admin.deleteTopics({ topics: Object.values(names.topics) }).catch(() => undefined);
    await admin.disconnect();
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const mode = process.argv[2] as Mode | undefined;
  if (mode) return runMode(mode);
  say(`scorer memory during a burst of ${RECORDS} records of ${(BYTES / MB).toFixed(2)} MB (one partition)`);
  const results: Record<string, { rssPeakMB: number; growthMB: number; rssBeforeMB: number }> = {};
  for (const m of Object.keys(MODES) as Mode[]) {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), m],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${m} exited ${code}`))));
    });
    const line = out.trim().split('\n').pop()!;
    results[m] = JSON.parse(line) as (typeof results)[string];
    say(line);
  }
  const b = results.bounded!;
  const w = results.wide!;
  say(
    `RSS growth during the burst: bounded ${b.growthMB} MB (peak ${b.rssPeakMB} MB), ` +
      `bounds opened wide ${w.growthMB} MB (peak ${w.rssPeakMB} MB)`,
  );
}

await main();
