/**
 * The trainer service against real Redis: a scheduled run publishes a version with its training
 * statistics while the health endpoint keeps answering (training is in a worker thread); a run that
 * finds another replica's lease is skipped; stopping aborts a training without publishing; a failed
 * run is reported and retried later.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTrainer, type TrainerServiceConfig } from '../../services/trainer/app.js';
import { resolveTrainerConfig } from '../../services/trainer/config.js';
import { onCleanup, testRedis, uniquePipeline } from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';

const DATA_DIR = process.env['SMAE_DATA_DIR'] ?? join(import.meta.dirname, '../../../shared/data');

/** The first `rows` lines of thyroid.csv in a temporary file. */
async function smallCsv(t: TestContext, rows: number): Promise<string> {
  const lines = (await readFile(join(DATA_DIR, 'thyroid.csv'), 'utf8')).trim().split('\n');
  const dir = await mkdtemp(join(tmpdir(), 'smae-trainer-svc-'));
  onCleanup(t, () => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'rows.csv');
  await writeFile(path, `${lines.slice(0, rows + 1).join('\n')}\n`);
  return path;
}

function config(
  pipeline: string,
  path: string,
  over: Partial<TrainerServiceConfig> = {},
): TrainerServiceConfig {
  return {
    pipeline,
    source: { kind: 'csv', path },
    training: { labelColumn: 'label', epochs: 3, batchSize: 32, seed: 3, backend: 'cpu', profile: 'report' },
    intervalMs: 0,
    runOnStart: false,
    retryMs: 3_600_000,
    lockTtlMs: 10_000,
    readTimeoutMs: 10_000,
    ops: null,
    ...over,
  };
}

describe('trainer service', () => {
  test('publishes a version with training statistics while /healthz keeps answering', async (t) => {
    const names = uniquePipeline(t, 'trainer-svc');
    const redis = await testRedis(t);
    const csv = await smallCsv(t, 600);
    // Enough epochs that the health check lands during training.
    const app = buildTrainer(
      config(names.name, csv, {
        runOnStart: true,
        training: {
          labelColumn: 'label',
          epochs: 200,
          batchSize: 8,
          seed: 3,
          backend: 'cpu',
          profile: 'report',
        },
        ops: { port: 0, host: '127.0.0.1' },
      }),
      { redis },
    );
    onCleanup(t, () => app.stop());
    await app.start();
    await waitFor(() => app.status().epoch !== null, { message: 'first epoch', timeoutMs: 60_000 });
    const health = await fetch(`${app.url}/healthz`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { running: boolean; epoch: { epoch: number } | null };
    assert.equal(body.running, true, 'answered while training');
    assert.ok(body.epoch && body.epoch.epoch >= 1);
    assert.equal((await fetch(`${app.url}/readyz`)).status, 200);

    const report = await waitFor(() => app.status().lastRun, { message: 'run finished', timeoutMs: 300_000 });
    assert.equal(report.outcome, 'published', report.error);
    assert.equal(report.version, 1);
    const current = await app.registry.current();
    assert.ok(current);
    const m = current.artifact.manifest;
    assert.equal(current.publishedBy, 'trainer');
    assert.equal(m.training.rows, 600);
    assert.equal(m.training.epochs, 200);
    assert.equal(m.training.lossHistory.length, 200);
    assert.ok(Number.isFinite(m.training.finalLoss));
    assert.ok(m.training.wallSeconds > 0);
    assert.equal(m.threshold.percentile, 95);
    assert.equal(m.backend, 'cpu');
    assert.ok(!m.preprocessing.columns.includes('label'));
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /smae_trainer_runs_total\{outcome="published"[^}]*\} 1/);
    assert.match(metrics, /smae_trainer_published_version\{[^}]*\} 1/);
    assert.equal(app.status().nextRunAt, null, 'no schedule with intervalMs 0');
  });

  test('a run that finds the lease held by another replica is skipped', async (t) => {
    const names = uniquePipeline(t, 'trainer-svc');
    const redis = await testRedis(t);
    const app = buildTrainer(config(names.name, await smallCsv(t, 100)), { redis });
    onCleanup(t, () => app.stop());
    await redis.set(`${names.redisPrefix}trainer:lock`, 'another-replica', 'PX', 30_000);
    const report = await app.runNow();
    assert.equal(report.outcome, 'skipped');
    assert.equal(await app.registry.currentVersion(), 0);
    assert.equal(
      await redis.get(`${names.redisPrefix}trainer:lock`),
      'another-replica',
      'not ours to release',
    );
  });

  test('stop() aborts a training in progress without publishing', async (t) => {
    const names = uniquePipeline(t, 'trainer-svc');
    const redis = await testRedis(t);
    const app = buildTrainer(
      config(names.name, await smallCsv(t, 600), {
        training: {
          labelColumn: 'label',
          epochs: 10_000,
          batchSize: 8,
          seed: 3,
          backend: 'cpu',
          profile: 'report',
        },
        intervalMs: 3_600_000,
      }),
      { redis },
    );
    const run = app.runNow();
    await waitFor(() => app.status().epoch !== null, { message: 'training under way', timeoutMs: 60_000 });
    await app.stop();
    const report = await run;
    assert.equal(report.outcome, 'aborted');
    assert.equal(await app.registry.currentVersion(), 0);
    assert.equal(await redis.exists(`${names.redisPrefix}trainer:lock`), 0, 'lease released');
    assert.equal(app.status().nextRunAt, null, 'nothing scheduled after stop');
  });

  test('a failed run is reported and retried later', async (t) => {
    const names = uniquePipeline(t, 'trainer-svc');
    const redis = await testRedis(t);
    const app = buildTrainer(
      config(names.name, '/nonexistent/rows.csv', { intervalMs: 3_600_000, retryMs: 60_000 }),
      {
        redis,
      },
    );
    onCleanup(t, () => app.stop());
    const report = await app.runNow();
    assert.equal(report.outcome, 'failed');
    assert.match(report.error ?? '', /BAD_DATA_FILE/);
    const next = app.status().nextRunAt;
    assert.ok(next !== null);
    const inMs = Date.parse(next) - Date.now();
    assert.ok(inMs > 0 && inMs <= 60_000, 'retried after retryMs, not the full interval');
  });
});

describe('trainer configuration', () => {
  test('a topic source needs the record schema; CSV and topic are exclusive', () => {
    assert.throws(
      () => resolveTrainerConfig({ pipeline: 'p' }),
      (err: Error & { issues?: { path: string }[] }) =>
        Boolean(err.issues?.some((i) => i.path.includes('SMAE_RECORD_SCHEMA'))),
    );
    assert.throws(() => resolveTrainerConfig({ pipeline: 'p', data: 'x.csv', topic: 't' }), {
      code: 'INVALID_CONFIG',
    });
    const c = resolveTrainerConfig({ pipeline: 'p', recordSchema: 's.avsc', exclude: 'id, ts', epochs: '5' });
    assert.deepEqual(c.service.source, { kind: 'topic', topic: 'p.records', last: 50_000 });
    assert.deepEqual(c.service.training.exclude, ['id', 'ts']);
    assert.equal(c.service.training.epochs, 5);
  });
});
