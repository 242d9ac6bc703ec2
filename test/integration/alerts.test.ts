/**
 * `smae alerts` against the real broker and Redis: flags read read_committed become alerts grouped per
 * key, delivered to stdout and a webhook (retried, refusals dead-lettered), and a restart that re-reads
 * every flag alerts nothing twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeRecord } from '../../shared/avro/encoder.js';
import { FLAG_SCHEMA, type FlagRecord } from '../../shared/avro/schemas.js';
import { createAlertsApp } from '../../services/alerts/app.js';
import { stdoutSink, webhookSink } from '../../services/alerts/delivery.js';
import { RedisAlertStore, alertKeys } from '../../services/alerts/redis-store.js';
import { MemoryAlertStore, buildAlert, type Alert, type Outcome } from '../../services/alerts/suppression.js';
import { applyFlag } from '../../services/alerts/app.js';
import {
  onCleanup,
  testAdmin,
  testPort,
  testProducer,
  testRedis,
  uniqueGroup,
  uniquePipeline,
  uniqueRedisPrefix,
  uniqueTopic,
} from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';
import { flag } from '../unit/services/alerts/flags.js';

const W = 60_000;

test('the Redis store makes the same decisions as the in-memory rule, atomically with the outbox', async (t) => {
  const redis = await testRedis(t);
  const store = new RedisAlertStore({ redis, keys: alertKeys(uniqueRedisPrefix(t)) });
  const memory = new MemoryAlertStore();
  const flags = [
    flag(1, 'a', 0),
    flag(2, 'b', 10),
    flag(3, 'a', 20),
    flag(1, 'a', 0),
    flag(4, 'a', W - 1),
    flag(5, 'a', W),
    flag(6, null, 5),
    flag(7, 'b', 5), // late: before b's opening flag
    flag(8, 'a', W + 10),
  ];
  const opts = { windowMs: W, timeBase: 'event' as const };
  const fromRedis: Outcome[] = [];
  const fromMemory: Outcome[] = [];
  for (const f of flags) {
    fromRedis.push(await applyFlag(store, f, opts));
    fromMemory.push(await applyFlag(memory, f, opts));
  }
  assert.deepEqual(fromRedis, fromMemory);
  assert.deepEqual(fromRedis, [
    'opened',
    'opened',
    'suppressed',
    'duplicate',
    'suppressed',
    'opened',
    'opened',
    'suppressed',
    'suppressed',
  ]);
  assert.deepEqual(await store.state('a'), await memory.state('a'));
  assert.deepEqual(await store.state('b'), await memory.state('b'));
  assert.deepEqual(await store.counts(), { outbox: 4, inflight: 0, dead: 0 });

  // Claims come in order; an unacked claim is handed out again once its lease expires.
  const now = Date.now();
  const first = (await store.claim(1000, now))!;
  assert.equal(first.alert.alertId, 'p.records:0:1');
  assert.equal(first.redelivery, false);
  const second = (await store.claim(1000, now))!;
  assert.equal(second.alert.alertId, 'p.records:0:2');
  await store.ack(second);
  const again = (await store.claim(1000, now + 1001))!;
  assert.equal(again.alert.alertId, 'p.records:0:1');
  assert.equal(again.redelivery, true);
  await store.deadLetter(again, { sink: 'webhook', error: 'answered 400', attempts: 1 });
  assert.deepEqual(await store.counts(), { outbox: 2, inflight: 0, dead: 1 });
  const dead = JSON.parse((await redis.lindex(store.keys.dead, 0))!) as { sink: string; alert: Alert };
  assert.equal(dead.sink, 'webhook');
  assert.equal(dead.alert.alertId, 'p.records:0:1');
});

interface Hook {
  url: string;
  received: Alert[];
  attempts: Map<string, number>;
}

/** A webhook receiver: 503 for the first attempt of every alert, 400 for key `poison`, else 200. */
async function webhookServer(t: Parameters<typeof onCleanup>[0]): Promise<Hook> {
  const hook: Hook = { url: '', received: [], attempts: new Map() };
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const alert = JSON.parse(body) as Alert;
      const n = (hook.attempts.get(alert.alertId) ?? 0) + 1;
      hook.attempts.set(alert.alertId, n);
      if (alert.key === 'poison') res.writeHead(400).end('{"error":"no such team"}');
      else if (n === 1) res.writeHead(503).end();
      else {
        assert.equal(req.headers['idempotency-key'], alert.alertId);
        hook.received.push(alert);
        res.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return hook;
}

test('flags from the topic become alerts once, across a restart that re-reads everything', async (t) => {
  const names = uniquePipeline(t, 'alerts');
  const topic = await uniqueTopic(t, { prefix: 'flags', partitions: 2 });
  const groupId = uniqueGroup(t, 'alerts');
  const redis = await testRedis(t);
  const hook = await webhookServer(t);
  const base = Date.UTC(2024, 0, 1);

  const producer = await testProducer(t, {
    transactionalId: `tx-${topic}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  const send = async (flags: FlagRecord[], commit: boolean): Promise<void> => {
    const tx = await producer.transaction();
    await tx.send({
      topic,
      messages: flags.map((f) => ({
        key: `${f.topic}:${f.partition}:${f.offset}`,
        value: encodeRecord(FLAG_SCHEMA, { ...f, pipeline: names.name }),
        partition: f.key === 'b' ? 1 : 0,
      })),
    });
    if (commit) await tx.commit();
    else await tx.abort();
  };

  const printed: Alert[] = [];
  const start = async () => {
    const app = createAlertsApp({
      kafka: testPort('smae-test-alerts'),
      store: new RedisAlertStore({ redis, keys: alertKeys(names.redisPrefix) }),
      flagsTopic: topic,
      groupId,
      sinks: [
        stdoutSink('json', (line) => printed.push(JSON.parse(line) as Alert)),
        webhookSink({ url: hook.url, timeoutMs: 2000 }),
      ],
      windowMs: W,
      fromBeginning: true,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    });
    await app.start();
    return app;
  };

  await send([flag(1, 'a', base), flag(2, 'a', base + 1000), flag(3, 'b', base + 2000)], true);
  await send([flag(4, 'c', base + 3000)], false); // aborted: never visible read_committed
  await send([flag(5, 'poison', base + 4000), flag(6, 'a', base + W + 5)], true);

  let app = await start();
  onCleanup(t, () => app.stop());
  await waitFor(
    () => app.stats.flags >= 5 && app.deliverer.stats.delivered + app.deliverer.stats.deadLettered >= 4,
    {
      timeoutMs: 60_000,
      message: () =>
        `5 flags applied, 4 alerts handled (${JSON.stringify({ ...app.stats, ...app.deliverer.stats })})`,
    },
  );
  assert.deepEqual(app.stats, { flags: 5, opened: 4, suppressed: 1, duplicates: 0, undecodable: 0 });
  const ids = (alerts: Alert[]): string[] => alerts.map((a) => a.alertId).sort();
  assert.deepEqual(ids(printed), ['p.records:0:1', 'p.records:0:3', 'p.records:0:5', 'p.records:0:6']);
  assert.deepEqual(
    ids(hook.received),
    ['p.records:0:1', 'p.records:0:3', 'p.records:0:6'],
    'delivered after a retry',
  );
  assert.ok([...hook.attempts.entries()].filter(([id]) => id !== 'p.records:0:5').every(([, n]) => n === 2));
  assert.equal(hook.attempts.get('p.records:0:5'), 1, 'a 400 is not retried');
  const dead = await redis.lrange(alertKeys(names.redisPrefix).dead, 0, -1);
  assert.equal(dead.length, 1);
  assert.match(dead[0]!, /answered 400/);
  await app.stop();

  // Restart with the group's offsets rewound: every flag is read again, none alerts again.
  const admin = await testAdmin(t);
  await admin.resetOffsets({ groupId, topic, earliest: true });
  const before = printed.length;
  app = await start();
  await send([flag(7, 'a', base + W + 10), flag(8, 'b', base + W + 2001)], true);
  await waitFor(() => app.stats.flags >= 7, {
    timeoutMs: 60_000,
    message: () => `7 flags re-read (${JSON.stringify(app.stats)})`,
  });
  await waitFor(() => printed.length > before, { message: 'the new alert for b' });
  assert.deepEqual(app.stats, { flags: 7, opened: 1, suppressed: 1, duplicates: 5, undecodable: 0 });
  assert.deepEqual(
    printed.slice(before).map((a) => a.alertId),
    ['p.records:0:8'],
  );
  const state = await new RedisAlertStore({ redis, keys: alertKeys(names.redisPrefix) }).state('a');
  assert.equal(state?.alertId, 'p.records:0:6');
  assert.equal(state?.count, 2);
  assert.deepEqual(
    buildAlert(flag(8, 'b', base + W + 2001), base + W + 2001, W).suppressUntil,
    printed[printed.length - 1]!.suppressUntil,
  );
});
