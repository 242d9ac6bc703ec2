/**
 * The local-broker tooling never touches the wrong broker: two real brokers from one cache folder on two
 * ports (29192 and 29292, controllers on the next ports), each identified by its own node folder and
 * command line; stopping one leaves the other answering; a pid file that names some other process is
 * never signalled.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  REPO_ROOT,
  ensureKafka,
  kafkaStatus,
  knownBrokers,
  stopKafka,
  type LocalBrokerOptions,
} from '../../tools/infra/kafka/broker.js';
import { createKafka } from '../../shared/kafka/client.js';

const cacheDir = join(REPO_ROOT, '.cache', 'kafka');
const node = (port: number): LocalBrokerOptions => ({
  cacheDir,
  port,
  controllerPort: port + 1,
  jvmOptions: ['-Xms96m', '-Xmx384m'],
  readyTimeoutMs: 240_000,
});
const A = node(29192);
const B = node(29292);
const nodeDir = (o: LocalBrokerOptions) => join(cacheDir, 'nodes', String(o.port));

async function topicCount(port: number): Promise<number> {
  const admin = createKafka({
    brokers: [`127.0.0.1:${port}`],
    clientId: 'broker-tooling-test',
    logLevel: 'nothing',
    connectionTimeout: 3000,
    retry: { retries: 2 },
  }).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).length;
  } finally {
    await admin.disconnect();
  }
}

after(async () => {
  for (const o of [A, B]) {
    await stopKafka({ ...o, purge: true }).catch(() => undefined);
    rmSync(nodeDir(o), { recursive: true, force: true });
  }
});

describe('local broker tooling with two brokers', () => {
  test('two brokers on two ports: status knows both, down stops only the one asked for', async () => {
    const [a, b] = await Promise.all([ensureKafka(A), ensureKafka(B)]);
    assert.equal(a.outcome, 'started');
    assert.equal(b.outcome, 'started');
    assert.notEqual(a.pid, b.pid);
    // Each `up` again finds its own broker, not the other one.
    assert.equal((await ensureKafka(A)).pid, a.pid);
    assert.equal((await ensureKafka(B)).pid, b.pid);

    const known = await knownBrokers(A);
    const byPort = new Map(known.map((s) => [s.brokers, s]));
    assert.equal(byPort.get('127.0.0.1:29192')?.pid, a.pid);
    assert.equal(byPort.get('127.0.0.1:29292')?.pid, b.pid);
    assert.ok(byPort.get('127.0.0.1:29192')?.reachable);
    assert.ok(byPort.get('127.0.0.1:29292')?.reachable);

    // A pid file that names another process (here B's broker, then this test process) is not proof:
    // nothing is signalled.
    const pidFileA = join(nodeDir(A), 'kafka.pid');
    const realA = readFileSync(pidFileA, 'utf8');
    writeFileSync(pidFileA, `${b.pid}\n`);
    const refused = await stopKafka(A);
    assert.equal(refused.stopped, false);
    assert.match(refused.detail, /not the broker of this cache folder and port/);
    writeFileSync(pidFileA, realA);
    const strayPort = 29392;
    mkdirSync(join(cacheDir, 'nodes', String(strayPort)), { recursive: true });
    writeFileSync(join(cacheDir, 'nodes', String(strayPort), 'kafka.pid'), `${process.pid}\n`);
    try {
      const stray = await stopKafka(node(strayPort));
      assert.equal(stray.stopped, false);
      assert.match(stray.detail, new RegExp(`pid ${process.pid}, which is not the broker`));
    } finally {
      rmSync(join(cacheDir, 'nodes', String(strayPort)), { recursive: true, force: true });
    }
    assert.ok((await topicCount(29192)) >= 0, 'A still answers');
    assert.ok((await topicCount(29292)) >= 0, 'B still answers');

    const down = await stopKafka(A);
    assert.equal(down.stopped, true);
    assert.equal(down.pid, a.pid);
    assert.ok((await topicCount(29292)) >= 0, 'B answers after A was stopped');
    const stA = await kafkaStatus(A);
    const stB = await kafkaStatus(B);
    assert.equal(stA.running, false);
    assert.equal(stA.reachable, false);
    assert.equal(stB.pid, b.pid);
    assert.equal(stB.reachable, true);
    // Stopping A again stops nothing.
    assert.equal((await stopKafka(A)).stopped, false);
    assert.equal((await kafkaStatus(B)).reachable, true);
  });
});
