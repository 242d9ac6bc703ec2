/**
 * `smae alerts` never alerts on a flag of an aborted scorer transaction, even when transactions of two
 * producers interleave on one flags partition (the case kafkajs's own read_committed gets wrong), both
 * live (the consumer running while the transactions happen), across a restart (committed offsets) and
 * on a re-read from the beginning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { encodeRecord } from '../../shared/avro/encoder.js';
import { FLAG_SCHEMA, type FlagRecord } from '../../shared/avro/schemas.js';
import { createAlertsApp, type AlertsApp } from '../../services/alerts/app.js';
import { stdoutSink } from '../../services/alerts/delivery.js';
import { RedisAlertStore, alertKeys } from '../../services/alerts/redis-store.js';
import { flagId, type Alert } from '../../services/alerts/suppression.js';
import {
  onCleanup,
  testAdmin,
  testPort,
  testProducer,
  testRedis,
  uniqueGroup,
  uniquePipeline,
  uniqueTopic,
} from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';
import { flag } from '../unit/services/alerts/flags.js';

const W = 60_000;

test('flags of aborted transactions interleaved on one partition never become alerts', async (t) => {
  const names = uniquePipeline(t, 'alerts-aborted');
  const topic = await uniqueTopic(t, { prefix: 'flags', partitions: 1 });
  const groupId = uniqueGroup(t, 'alerts-aborted');
  const redis = await testRedis(t);
  const base = Date.UTC(2024, 0, 1);
  const txProducer = (name: string): Promise<Producer> =>
    testProducer(t, { transactionalId: `tx-${name}-${topic}`, idempotent: true, maxInFlightRequests: 1 });
  const [pa, pb] = await Promise.all([txProducer('a'), txProducer('b')]);

  // Every flag has its own key, so each visible flag opens its own alert.
  let next = 0;
  const make = (): FlagRecord => {
    next++;
    return { ...flag(next, `k${next}`, base + next * 1000), pipeline: names.name };
  };
  const msg = (f: FlagRecord) => ({ key: flagId(f), value: encodeRecord(FLAG_SCHEMA, f), partition: 0 });
  const committed: string[] = [];
  const aborted: string[] = [];

  /**
   * One round: both producers open a transaction and write `n` flags each, alternating on partition
   * 0, then end them in the given order with the given outcomes.
   */
  const round = async (n: number, ends: [Producer, 'commit' | 'abort'][]): Promise<void> => {
    const txs = new Map([
      [pa, await pa.transaction()],
      [pb, await pb.transaction()],
    ]);
    const written = new Map<Producer, string[]>([
      [pa, []],
      [pb, []],
    ]);
    for (let i = 0; i < n; i++) {
      for (const p of [pa, pb]) {
        const f = make();
        await txs.get(p)!.send({ topic, messages: [msg(f)] });
        written.get(p)!.push(flagId(f));
      }
    }
    for (const [p, outcome] of ends) {
      if (outcome === 'commit') {
        await txs.get(p)!.commit();
        committed.push(...written.get(p)!);
      } else {
        await txs.get(p)!.abort();
        aborted.push(...written.get(p)!);
      }
    }
  };
  /** Everything before it is decided once this committed flag is alerted (it commits last). */
  const barrier = async (): Promise<string> => {
    const f = make();
    const tx = await pa.transaction();
    await tx.send({ topic, messages: [msg(f)] });
    await tx.commit();
    committed.push(flagId(f));
    return flagId(f);
  };

  const printed: Alert[] = [];
  const start = async (fromBeginning = true): Promise<AlertsApp> => {
    const app = createAlertsApp({
      kafka: testPort('smae-test-alerts-aborted'),
      store: new RedisAlertStore({ redis, keys: alertKeys(names.redisPrefix) }),
      flagsTopic: topic,
      groupId,
      sinks: [stdoutSink('json', (line) => printed.push(JSON.parse(line) as Alert))],
      windowMs: W,
      fromBeginning,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
    });
    await app.start();
    return app;
  };
  const printedIds = (): string[] => printed.map((a) => a.alertId).sort();

  // Phase 1, live: the consumer runs while the transactions happen.
  let app = await start();
  onCleanup(t, () => app.stop());
  await round(3, [
    [pb, 'abort'],
    [pa, 'commit'],
  ]);
  await round(2, [
    [pa, 'abort'],
    [pb, 'commit'],
  ]);
  await round(2, [
    [pb, 'abort'],
    [pa, 'abort'],
  ]);
  await round(1, [
    [pa, 'commit'],
    [pb, 'commit'],
  ]);
  const last = await barrier();
  await waitFor(() => printed.some((a) => a.alertId === last), {
    timeoutMs: 60_000,
    message: () =>
      `the barrier flag alerted (${JSON.stringify({ ...app.stats, pending: app.pendingFlags })})`,
  });
  assert.equal(committed.length, 3 + 2 + 2 + 1);
  assert.equal(aborted.length, 3 + 2 + 4);
  assert.deepEqual(printedIds(), [...committed].sort(), 'exactly the committed flags alerted');
  assert.deepEqual(app.stats, {
    flags: committed.length,
    opened: committed.length,
    suppressed: 0,
    duplicates: 0,
    undecodable: 0,
  });
  await waitFor(() => app.pendingFlags === 0, { message: 'no flags held back' });
  await app.stop();

  // Phase 2, restart: the group's committed offsets carry it on from where it stopped, so a flag
  // committed while it was down is alerted (a group starting at the topic's end would miss it) and
  // nothing before it is read again.
  const whileDown = await barrier();
  app = await start(false);
  await waitFor(() => printed.some((a) => a.alertId === whileDown), {
    timeoutMs: 60_000,
    message: () => `the flag committed while down alerted (${JSON.stringify(app.stats)})`,
  });
  assert.deepEqual(app.stats, { flags: 1, opened: 1, suppressed: 0, duplicates: 0, undecodable: 0 });
  await app.stop();

  // Phase 3, re-read: the group rewound to the beginning reads the whole log in large fetches (the
  // aborted transactions' list of one fetch then holds interleaved entries of both producers).
  const admin = await testAdmin(t);
  await admin.resetOffsets({ groupId, topic, earliest: true });
  app = await start();
  const last2 = await barrier();
  await waitFor(() => printed.some((a) => a.alertId === last2), {
    timeoutMs: 60_000,
    message: () => `the second barrier alerted (${JSON.stringify(app.stats)})`,
  });
  assert.deepEqual(printedIds(), [...committed].sort(), 'no aborted flag alerted on the re-read');
  assert.deepEqual(app.stats, {
    flags: committed.length,
    opened: 1,
    suppressed: 0,
    duplicates: committed.length - 1,
    undecodable: 0,
  });
  for (const id of aborted) {
    assert.equal(await redis.exists(alertKeys(names.redisPrefix).seen(id)), 0, `${id} never applied`);
  }
});
