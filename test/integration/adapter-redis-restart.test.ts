/**
 * A Redis restart leaves exactly one adaptation scheduler per pipeline. The shared Redis cannot be
 * restarted, so this test runs a private `redis-server` (no persistence: a restart loses everything,
 * the harder case) on a free port and restarts it under running adapters and between adapter starts.
 * Skipped when no redis-server binary is installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import {
  ADAPTER_QUEUE,
  buildAdapter,
  queueOptions,
  schedulerId,
  type Adapter,
} from '../../services/adapter/app.js';
import { resolveAdapterConfig } from '../../services/adapter/config.js';
import { createRedis, pingRedis } from '../../shared/redis/client.js';
import { onCleanup, uniqueName } from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';

const HAVE_REDIS_SERVER = spawnSync('redis-server', ['--version']).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A private, non-persistent redis-server on `port`; `restart()` kills it (SIGKILL) and starts a fresh one. */
async function privateRedis(t: TestContext): Promise<{ url: string; restart(): Promise<void> }> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(() => pingRedis(url, 200), { timeoutMs: 10_000, message: `redis-server on port ${port}` });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (c === null || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  onCleanup(t, stop);
  return {
    url,
    async restart() {
      await stop();
      await start();
    },
  };
}

async function startAdapter(t: TestContext, url: string, pipeline: string): Promise<Adapter> {
  const config = resolveAdapterConfig({ pipeline, every: '1h', metricsPort: '0' });
  const redis = createRedis(url, { connectionName: 'adapter-restart-test' });
  const bullmq = createRedis(url, {
    connectionName: 'adapter-restart-test-bullmq',
    maxRetriesPerRequest: null,
  });
  const adapter = buildAdapter(config, { redis, bullmq });
  onCleanup(t, async () => {
    await Promise.all([redis, bullmq].map((c) => c.quit().catch(() => c.disconnect())));
  });
  onCleanup(t, () => adapter.close());
  await adapter.start();
  return adapter;
}

async function schedulers(url: string, pipeline: string): Promise<string[]> {
  const conn = createRedis(url, { maxRetriesPerRequest: null });
  const q = new Queue(ADAPTER_QUEUE, { connection: conn, ...queueOptions(pipeline) });
  try {
    return (await q.getJobSchedulers()).map((s) => s.key);
  } finally {
    await q.close();
    conn.disconnect();
  }
}

/** Scheduler upserts this adapter has made (its metric). */
async function upserts(adapter: Adapter): Promise<number> {
  const text = await adapter.metricsRegistry.metrics();
  const m = /smae_adapter_scheduler_upserts_total\{[^}]*\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

describe(
  'adapter scheduler across Redis restarts',
  { skip: !HAVE_REDIS_SERVER && 'redis-server is not installed' },
  () => {
    test('exactly one scheduler after adapter restarts and Redis restarts', async (t) => {
      const redis = await privateRedis(t);
      const pipeline = uniqueName('restart');
      const expected = [schedulerId(pipeline)];

      // Two adapter starts (a restart of the process, or a second replica): still one scheduler.
      const a = await startAdapter(t, redis.url, pipeline);
      assert.deepEqual(await schedulers(redis.url, pipeline), expected);
      const b = await startAdapter(t, redis.url, pipeline);
      await a.upsertSchedulers();
      assert.deepEqual(await schedulers(redis.url, pipeline), expected);

      // Redis restarts under both (and forgets everything): both re-assert, one scheduler results.
      const before = [await upserts(a), await upserts(b)];
      await redis.restart();
      await waitFor(async () => (await upserts(a)) > before[0]! && (await upserts(b)) > before[1]!, {
        timeoutMs: 30_000,
        message: 'both adapters to re-assert their scheduler after the Redis restart',
      });
      assert.deepEqual(await schedulers(redis.url, pipeline), expected);

      // Restart Redis between two adapter starts.
      await a.close();
      await b.close();
      await redis.restart();
      assert.deepEqual(await schedulers(redis.url, pipeline), []);
      await startAdapter(t, redis.url, pipeline);
      assert.deepEqual(await schedulers(redis.url, pipeline), expected);
    });
  },
);
