/**
 * Least privilege on a real Redis: a private redis-server (port 29379, not the shared one) with one ACL
 * user per service from `shared/redis/acl.ts`. The trainer publishes, the scorer reads models and writes
 * the window but cannot publish a model, the adapter publishes and enqueues its BullMQ jobs, alerts
 * touches only its own keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { queueOptions } from '../../services/adapter/app.js';
import { alertKeys } from '../../services/alerts/redis-store.js';
import { pipelineNames } from '../../shared/pipeline.js';
import { applyRedisAcl, type RedisService } from '../../shared/redis/acl.js';
import { pingRedis } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { windowStreamKey } from '../../shared/scoring/window.js';
import { tinyArtifact } from '../unit/registry/fixtures.js';
import { waitFor } from '../helpers/wait.js';

const HAVE_REDIS_SERVER = spawnSync('redis-server', ['--version']).status === 0;
const PORT = 29379;
let server: ChildProcess | null = null;
const clients: Redis[] = [];
const pipeline = `acl-${randomBytes(4).toString('hex')}`;
const names = pipelineNames(pipeline);
const passwords: Record<RedisService, string> = {
  scorer: randomBytes(16).toString('hex'),
  trainer: randomBytes(16).toString('hex'),
  adapter: randomBytes(16).toString('hex'),
  alerts: randomBytes(16).toString('hex'),
};
let users: Record<string, string> = {};

function connect(service?: RedisService): Redis {
  const auth = service === undefined ? '' : `${users[service]}:${passwords[service]}@`;
  const r = new Redis(`redis://${auth}127.0.0.1:${PORT}`, { maxRetriesPerRequest: 1 });
  clients.push(r);
  return r;
}

const NOPERM = /NOPERM/;

describe(
  'Redis ACL users per service',
  { skip: HAVE_REDIS_SERVER ? false : 'redis-server is not installed' },
  () => {
    before(async () => {
      server = spawn(
        'redis-server',
        ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      await waitFor(() => pingRedis(`redis://127.0.0.1:${PORT}`, 200), {
        timeoutMs: 10_000,
        message: `redis-server on port ${PORT}`,
      });
      users = await applyRedisAcl(connect(), pipeline, passwords);
    });

    after(async () => {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      server?.kill('SIGKILL');
    });

    test('the trainer publishes; the scorer reads models and writes the window but cannot publish', async (t) => {
      const trainer = new ModelRegistry({ redis: connect('trainer'), pipeline });
      assert.equal(
        (await trainer.publish(tinyArtifact(1), { publishedBy: 'trainer', reason: 'acl' })).version,
        1,
      );

      const scorerRedis = connect('scorer');
      const scorer = new ModelRegistry({ redis: scorerRedis, pipeline });
      assert.equal((await scorer.current())?.version, 1);
      const seen: number[] = [];
      const watch = scorer.watch((m) => void seen.push(m.version), { pollMs: 100 });
      t.after(() => watch.close());
      await watch.check();
      assert.deepEqual(seen, [1]);
      await scorerRedis.xadd(windowStreamKey(names.redisPrefix), 'MAXLEN', '~', '100', '*', 'f', '1');

      // Publishing with the scorer's credentials: refused by Redis, nothing written.
      await assert.rejects(scorer.publish(tinyArtifact(2), { publishedBy: 'scorer', reason: 'x' }), NOPERM);
      await assert.rejects(scorerRedis.set(trainer.keys.current, '99'), NOPERM);
      await assert.rejects(scorerRedis.hset(trainer.keys.version(1), 'weights', 'x'), NOPERM);
      // (Redis channel permissions do not tell subscribing from publishing: the scorer could announce a
      // version, which is harmless: an announcement only makes readers re-read the pointer.)
      await assert.rejects(scorerRedis.get(`${names.redisPrefix}alerts:outbox`), NOPERM);
      await assert.rejects(scorerRedis.get('smae:{another-pipeline}:models:current'), NOPERM);
      await assert.rejects(scorerRedis.flushall(), NOPERM);
      assert.equal(await trainer.currentVersion(), 1);
      assert.equal((await trainer.get(1)).version, 1);
      await watch.close();
    });

    test('the adapter reads the window, publishes and enqueues; it cannot write the window', async () => {
      const adapterRedis = connect('adapter');
      const adapter = new ModelRegistry({ redis: adapterRedis, pipeline });
      assert.ok((await adapterRedis.xrange(windowStreamKey(names.redisPrefix), '-', '+')).length >= 0);
      const published = await adapter.publish(tinyArtifact(3), { publishedBy: 'adapter', reason: 'acl' });
      assert.ok(published.version >= 1);
      await assert.rejects(adapterRedis.xadd(windowStreamKey(names.redisPrefix), '*', 'f', '1'), NOPERM);
      const queue = new Queue('adapter', { connection: connect('adapter'), ...queueOptions(pipeline) });
      try {
        const job = await queue.add('acl-check', { pipeline });
        assert.ok(job.id);
      } finally {
        await queue.close();
      }
    });

    test('alerts touches only its own keys', async () => {
      const alerts = connect('alerts');
      const keys = alertKeys(names.redisPrefix);
      await alerts.lpush(keys.dead, 'x');
      assert.equal(await alerts.llen(keys.dead), 1);
      await assert.rejects(alerts.get(`${names.redisPrefix}models:current`), NOPERM);
      await assert.rejects(alerts.xadd(windowStreamKey(names.redisPrefix), '*', 'f', '1'), NOPERM);
    });
  },
);
