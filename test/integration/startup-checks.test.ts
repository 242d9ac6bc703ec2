/**
 * Start-up checks of the service processes, against the real Kafka and Redis: each is started as an
 * operator starts it (`tsx services/<name>/main.ts` with `SMAE_*` settings) and must stop at once with
 * a message that says what to do and the exit code of its kind — 78 for configuration (a record schema
 * whose field types cannot feed the model, a missing input topic, a metrics port in use), 69 for
 * infrastructure that does not answer.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '../../shared/registry/index.js';
import { initBackend } from '../../shared/model/backend.js';
import { trainDetector } from '../../shared/model/training.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { kafkajsAdmin } from '../../shared/kafka/kafkajs-admin.js';
import { EXIT_CODES } from '../../shared/ops/lifecycle.js';
import { onCleanup, testAdmin, testRedis, uniquePipeline } from '../helpers/infra.js';

const ROOT = join(import.meta.dirname, '../..');

interface Exit {
  code: number | null;
  stderr: string;
  /** The `err` of the service's fatal log line. */
  fatal: string;
}

/** Runs a service entry point until it exits (a started service would run forever: 120 s cap). */
function runService(service: string, env: Record<string, string>, t: TestContext): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, `services/${service}/main.ts`)], {
      cwd: ROOT,
      env: { ...process.env, SMAE_BACKEND: 'cpu', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    onCleanup(t, () => void child.kill('SIGKILL'));
    const cap = setTimeout(() => child.kill('SIGKILL'), 120_000);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(cap);
      const fatal = stderr
        .split('\n')
        .filter((l) => l.includes('"level":"fatal"'))
        .map((l) => (JSON.parse(l) as { err?: string }).err ?? '')
        .join('\n');
      resolve({ code, stderr, fatal });
    });
  });
}

async function schemaFile(t: TestContext, schema: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'smae-startup-'));
  onCleanup(t, () => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'record.avsc');
  await writeFile(path, JSON.stringify(schema));
  return path;
}

const NUMERIC_SCHEMA = {
  type: 'record',
  name: 'Row',
  fields: [
    { name: 'x1', type: 'double' },
    { name: 'x2', type: 'double' },
  ],
};

/** Publishes a small model on numeric features x1, x2 to the pipeline's registry. */
async function publishModel(t: TestContext, pipeline: string): Promise<void> {
  await initBackend({ prefer: 'cpu' });
  const rows = Array.from({ length: 64 }, (_, i) => ({ x1: i % 7, x2: (i * 3) % 11 }));
  const detector = await trainDetector(rows, { fit: { epochs: 2, seed: 1 }, source: 'test', pipeline });
  const redis = await testRedis(t);
  try {
    await new ModelRegistry({ redis, pipeline }).publish(detector.toArtifact(), {
      publishedBy: 'test',
      reason: 'startup check',
    });
  } finally {
    detector.dispose();
  }
}

async function takenPort(t: TestContext): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(t, () => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

describe('service start-up checks', () => {
  test('scorer: a record schema whose field types cannot feed the model stops it, naming each field', async (t) => {
    const names = uniquePipeline(t, 'startup-types');
    await publishModel(t, names.name);
    const schema = await schemaFile(t, {
      type: 'record',
      name: 'Row',
      fields: [
        { name: 'x1', type: 'boolean' },
        { name: 'x2', type: 'string' },
      ],
    });
    const exit = await runService(
      'scorer',
      {
        SMAE_PIPELINE: names.name,
        SMAE_RECORD_SCHEMA: schema,
        SMAE_ENSURE_TOPICS: 'true',
        SMAE_TOPIC_PARTITIONS: '1',
        SMAE_METRICS_PORT: '0',
      },
      t,
    );
    assert.equal(exit.code, EXIT_CODES.config, exit.stderr);
    assert.match(
      exit.fatal,
      /field "x1" is boolean; the model needs a number \(int, long, float or double\)/,
    );
    assert.match(exit.fatal, /field "x2" is string; the model needs a number/);
    assert.match(exit.fatal, /SMAE_RECORD_SCHEMA/);
  });

  test('scorer: the same model with a fitting schema starts (the check is not a blanket refusal)', async (t) => {
    const names = uniquePipeline(t, 'startup-fits');
    await publishModel(t, names.name);
    const schema = await schemaFile(t, NUMERIC_SCHEMA);
    const port = await takenPort(t); // the scorer gets as far as the ops server only when the model fits
    const exit = await runService(
      'scorer',
      {
        SMAE_PIPELINE: names.name,
        SMAE_RECORD_SCHEMA: schema,
        SMAE_ENSURE_TOPICS: 'true',
        SMAE_TOPIC_PARTITIONS: '1',
        SMAE_METRICS_PORT: String(port),
      },
      t,
    );
    // It passed the schema check and the topic check, and stopped at the taken port, named with its setting.
    assert.equal(exit.code, EXIT_CODES.config, exit.stderr);
    assert.match(exit.fatal, new RegExp(`port ${port} is already in use`));
    assert.match(exit.fatal, /SMAE_METRICS_PORT/);
  });

  test('scorer: a missing input topic stops it, naming the topic and both fixes', async (t) => {
    const names = uniquePipeline(t, 'startup-topic');
    const schema = await schemaFile(t, NUMERIC_SCHEMA);
    const exit = await runService(
      'scorer',
      { SMAE_PIPELINE: names.name, SMAE_RECORD_SCHEMA: schema, SMAE_METRICS_PORT: '0' },
      t,
    );
    assert.equal(exit.code, EXIT_CODES.config, exit.stderr);
    const quoted = (topic: string) => `"${topic.replaceAll('.', '\\.')}"`;
    const { records, flags, deadLetters } = names.topics;
    assert.match(
      exit.fatal,
      new RegExp(`topics ${quoted(records)}, ${quoted(flags)}, ${quoted(deadLetters)} do not exist`),
    );
    assert.match(exit.fatal, /Create them \(kafka-topics\.sh/);
    assert.match(exit.fatal, /SMAE_ENSURE_TOPICS=true/);
    assert.doesNotMatch(exit.stderr, /does not host this topic-partition/);
  });

  test('adapter and trainer: a metrics port in use stops them, naming the port and the setting', async (t) => {
    const names = uniquePipeline(t, 'startup-port');
    const port = await takenPort(t);
    const adapter = await runService(
      'adapter',
      { SMAE_PIPELINE: names.name, SMAE_METRICS_PORT: String(port) },
      t,
    );
    assert.equal(adapter.code, EXIT_CODES.config, adapter.stderr);
    assert.match(adapter.fatal, new RegExp(`port ${port} is already in use.*SMAE_METRICS_PORT`));

    const schema = await schemaFile(t, NUMERIC_SCHEMA);
    const admin = await testAdmin(t);
    await ensurePipelineTopics(kafkajsAdmin(admin), names, { partitions: 1 });
    const trainer = await runService(
      'trainer',
      { SMAE_PIPELINE: names.name, SMAE_RECORD_SCHEMA: schema, SMAE_METRICS_PORT: String(port) },
      t,
    );
    assert.equal(trainer.code, EXIT_CODES.config, trainer.stderr);
    assert.match(trainer.fatal, new RegExp(`port ${port} is already in use.*SMAE_METRICS_PORT`));
  });

  test('trainer: a topic to train from that does not exist stops it, naming the topic', async (t) => {
    const names = uniquePipeline(t, 'startup-trainer-topic');
    const schema = await schemaFile(t, NUMERIC_SCHEMA);
    const exit = await runService(
      'trainer',
      { SMAE_PIPELINE: names.name, SMAE_RECORD_SCHEMA: schema, SMAE_METRICS_PORT: '0' },
      t,
    );
    assert.equal(exit.code, EXIT_CODES.config, exit.stderr);
    assert.match(
      exit.fatal,
      new RegExp(`topic "${names.topics.records.replaceAll('.', '\\.')}" does not exist`),
    );
  });

  test('scorer: Kafka that does not answer is exit 69, not a configuration error', async (t) => {
    const names = uniquePipeline(t, 'startup-down');
    const schema = await schemaFile(t, NUMERIC_SCHEMA);
    // A port nothing listens on: connections are refused.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const exit = await runService(
      'scorer',
      {
        SMAE_PIPELINE: names.name,
        SMAE_RECORD_SCHEMA: schema,
        SMAE_METRICS_PORT: '0',
        KAFKA_BROKERS: `127.0.0.1:${closed}`,
        KAFKA_CONNECTION_TIMEOUT_MS: '500',
      },
      t,
    );
    assert.equal(exit.code, EXIT_CODES.unavailable, exit.stderr);
  });
});
