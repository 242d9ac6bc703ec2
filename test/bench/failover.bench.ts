/**
 * `npm run bench:failover`: exactly-once scoring on a three-broker KRaft cluster that loses a broker
 * mid-stream. A cluster of three local nodes (tools/infra/kafka/cluster.ts: ports 29810/29820/29830, RF 3,
 * min.insync.replicas 2, heap 384 MB each) is started; per scenario a fresh pipeline (4 input partitions,
 * RF 3) gets a signed model, a scorer process (exactly-once) and a stream of SMAE_FAILOVER_RECORDS
 * (default 100,000) records, 1 in 500 an anomaly. Once a third of the stream is committed, one broker is
 * killed with SIGKILL:
 *
 *   partition-leader         the leader of input partition 0
 *   transaction-coordinator  the broker coordinating the transactions of partition 0's transactional id
 *                            (leader of __transaction_state partition abs(javaHash(id)) % 8)
 *
 * and restarted 15 s later. Printed: the time from the kill to the scorer's first committed transaction
 * and to the first flag a read_committed consumer receives after it, then, once everything is consumed,
 * what a read_committed reader finds on the flags topic: missing, duplicated and extra flags (all must
 * be 0), and each broker's resident memory. Nothing is asserted; the exit code is 1 if a count is not 0.
 *
 * Flags: --keep leaves the cluster running; --scenario partition-leader|transaction-coordinator runs one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { REPO_ROOT, ensureKafka, kafkaStatus } from '../../tools/infra/kafka/broker.js';
import {
  clusterNodes,
  startCluster,
  stopCluster,
  type ClusterOptions,
} from '../../tools/infra/kafka/cluster.js';
import {
  FLAG_SCHEMA,
  TRANSACTION_SCHEMA,
  bundledSchemaPath,
  type FlagRecord,
} from '../../shared/avro/index.js';
import { createKafka } from '../../shared/kafka/client.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { kafkajsAdmin } from '../../shared/kafka/kafkajs-admin.js';
import type { ModelArtifact } from '../../shared/model/index.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';
import { createRedis, deleteKeysByPrefix, redisUrlFromEnv } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { transactionalIdFor } from '../../services/scorer/delivery.js';
import { ensureRunSigningKey } from '../helpers/signing.js';
import {
  TRANSACTION_SCHEMA_ID,
  anomalousTransaction,
  encodeTransaction,
  groupCaughtUp,
  normalTransaction,
  readTopicToEnd,
  rng,
  tinyModelArtifact,
} from '../fixtures/transactions.js';

const RECORDS = Number(process.env.SMAE_FAILOVER_RECORDS ?? 100_000);
const PARTITIONS = 4;
const ANOMALY_EVERY = 500;
const TX_STATE_PARTITIONS = 8; // transaction.state.log.num.partitions in server.properties.template
const isAnomaly = (i: number): boolean => i % ANOMALY_EVERY === 7;
const CLUSTER: ClusterOptions = {
  nodes: 3,
  port: 29810,
  jvmOptions: ['-Xms128m', '-Xmx384m'],
  readyTimeoutMs: 300_000,
  progress: (line) => say(`kafka: ${line}`),
};
const benchDir = join(REPO_ROOT, '.cache', 'bench-failover');

type Scenario = 'partition-leader' | 'transaction-coordinator';

function say(line: string): void {
  process.stdout.write(`[failover] ${line}\n`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Java's String.hashCode, as Kafka uses it to place a transactional id. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<bigint> {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (res[0]?.partitions ?? []).reduce((s, p) => s + (p.offset === '-1' ? 0n : BigInt(p.offset)), 0n);
}

function rssMb(pid: number | undefined): string {
  if (pid === undefined) return 'not running';
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return `RSS ${(kb('VmRSS') / 1024).toFixed(0)} MB (peak ${(kb('VmHWM') / 1024).toFixed(0)} MB)`;
  } catch {
    return 'unknown';
  }
}

async function victimNode(admin: Admin, names: PipelineNames, scenario: Scenario): Promise<number> {
  if (scenario === 'partition-leader') {
    const meta = await admin.fetchTopicMetadata({ topics: [names.topics.records] });
    return meta.topics[0]!.partitions.find((p) => p.partitionId === 0)!.leader;
  }
  const txId = transactionalIdFor(names.transactionalIdPrefix, names.topics.records, 0);
  const partition = (javaHash(txId) & 0x7fffffff) % TX_STATE_PARTITIONS;
  const meta = await admin.fetchTopicMetadata({ topics: ['__transaction_state'] });
  return meta.topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
}

async function runScenario(
  scenario: Scenario,
  kafka: Kafka,
  admin: Admin,
  brokers: string,
  artifact: ModelArtifact,
): Promise<{ missing: number; duplicated: number; extra: number }> {
  const redis = createRedis(redisUrlFromEnv(process.env));
  const names = pipelineNames(
    `failover-${scenario === 'partition-leader' ? 'leader' : 'coord'}-${randomBytes(3).toString('hex')}`,
  );
  say(`--- ${scenario}: pipeline ${names.name}, ${RECORDS} records on ${PARTITIONS} partitions (RF 3)`);
  await ensurePipelineTopics(kafkajsAdmin(admin), names, { partitions: PARTITIONS, replicationFactor: 3 });
  await new ModelRegistry({ redis, pipeline: names.name }).publish(artifact, {
    publishedBy: 'bench',
    reason: 'failover benchmark',
  });
  const schemaDir = join(benchDir, names.name);
  mkdirSync(schemaDir, { recursive: true });
  writeFileSync(
    join(schemaDir, `${TRANSACTION_SCHEMA_ID}.avsc`),
    JSON.stringify(TRANSACTION_SCHEMA.schema()),
  );
  const logFile = join(benchDir, `${names.name}.scorer.log`);
  const log = openSync(logFile, 'a');
  const scorer: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'services/scorer/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS: brokers,
      SMAE_PIPELINE: names.name,
      SMAE_RECORD_SCHEMA: bundledSchemaPath('transaction'),
      SMAE_SCHEMA_IDS_DIR: schemaDir,
      SMAE_DELIVERY: 'exactly-once',
      SMAE_KEY_FIELD: 'accountId',
      SMAE_EVENT_TIME_FIELD: 'eventTime',
      SMAE_METRICS_PORT: '0',
      SMAE_METRICS_HOST: '127.0.0.1',
      SMAE_BACKEND: 'cpu',
      SMAE_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', log, log],
  });
  const scorerExit = new Promise<number | null>((r) => scorer.once('exit', (code) => r(code)));

  // Flags as a read_committed consumer sees them, with the time each arrived.
  const watcher = kafka.consumer({ groupId: `${names.name}.bench-watch`, maxWaitTimeInMs: 100 });
  const arrivals: number[] = [];
  await watcher.connect();
  await watcher.subscribe({ topics: [names.topics.flags], fromBeginning: true });
  await watcher.run({ eachMessage: async () => void arrivals.push(Date.now()) });

  // The stream, as fast as the cluster takes it (idempotent producer, acks=all).
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const r = rng(99);
  let produced = 0;
  const producing = (async () => {
    const chunk = 1000;
    while (produced < RECORDS) {
      const n = Math.min(chunk, RECORDS - produced);
      const messages = Array.from({ length: n }, (_, j) => {
        const i = produced + j;
        const tx = isAnomaly(i) ? anomalousTransaction(i) : normalTransaction(i, r);
        return {
          partition: i % PARTITIONS,
          key: `tx-${i}`,
          value: encodeTransaction({ ...tx, accountId: `tx-${i}` }),
        };
      });
      await producer.send({ topic: names.topics.records, messages, acks: -1 });
      produced += n;
      await sleep(100); // ≈ 10k records/s offered: the stream is still flowing when the broker dies
    }
  })();

  const t0 = Date.now();
  while (
    (await committedTotal(admin, names.groups.scorer, names.topics.records)) < BigInt(Math.floor(RECORDS / 3))
  ) {
    if (scorer.exitCode !== null) throw new Error(`the scorer exited (${scorer.exitCode}); see ${logFile}`);
    await sleep(200);
  }
  const victim = await victimNode(admin, names, scenario);
  const node = clusterNodes(CLUSTER).find((n) => n.nodeId === victim)!;
  const pid = (await kafkaStatus(node)).pid;
  if (pid === undefined) throw new Error(`node ${victim} has no pid`);
  const committedAtKill = await committedTotal(admin, names.groups.scorer, names.topics.records);
  process.kill(pid, 'SIGKILL');
  const tKill = Date.now();
  say(
    `killed node ${victim} (pid ${pid}, port ${node.port}) with SIGKILL ${secs(tKill - t0)} after the scorer started, ` +
      `${committedAtKill} of ${RECORDS} records committed, ${produced} produced`,
  );

  let tCommit: number | undefined;
  let tFlag: number | undefined;
  let restarted = false;
  let pCommit: Promise<void> | undefined;
  while (tCommit === undefined || tFlag === undefined || !restarted) {
    if (scorer.exitCode !== null) throw new Error(`the scorer exited (${scorer.exitCode}); see ${logFile}`);
    if (tCommit === undefined) {
      const c = await committedTotal(admin, names.groups.scorer, names.topics.records).catch(
        () => committedAtKill,
      );
      if (c > committedAtKill) tCommit = Date.now();
    }
    if (tFlag === undefined) {
      const after = arrivals.find((a) => a > tKill + 50);
      if (after !== undefined) tFlag = after;
    }
    if (!restarted && Date.now() - tKill > 15_000 && pCommit === undefined) {
      const tRestart = Date.now();
      pCommit = ensureKafka(node).then((res) => {
        restarted = true;
        say(
          `restarted node ${victim} (pid ${res.pid}): answering ${secs(Date.now() - tRestart)} after the restart`,
        );
      });
    }
    if (Date.now() - tKill > 300_000) throw new Error('no recovery within 300 s');
    await sleep(50);
  }
  await pCommit;
  say(`first scorer transaction committed ${secs(tCommit - tKill)} after the kill`);
  say(`first flag to a read_committed consumer ${secs(tFlag - tKill)} after the kill`);

  await producing;
  const tProduced = Date.now();
  while (!(await groupCaughtUp(admin, names.groups.scorer, names.topics.records).catch(() => false))) {
    if (scorer.exitCode !== null) throw new Error(`the scorer exited (${scorer.exitCode}); see ${logFile}`);
    if (Date.now() - tProduced > 600_000) throw new Error('the scorer did not catch up within 600 s');
    await sleep(500);
  }
  say(`all ${RECORDS} records consumed ${secs(Date.now() - t0)} after the scorer started`);
  scorer.kill('SIGTERM');
  const code = await scorerExit;
  await watcher.disconnect();
  await producer.disconnect();

  const flags = await readTopicToEnd(kafka, admin, names.topics.flags, { timeoutMs: 300_000 });
  const byKey = new Map<string, number>();
  for (const m of flags) {
    const f = FLAG_SCHEMA.fromBuffer(m.value!) as FlagRecord;
    byKey.set(f.key!, (byKey.get(f.key!) ?? 0) + 1);
  }
  const expected: string[] = [];
  for (let i = 0; i < RECORDS; i++) if (isAnomaly(i)) expected.push(`tx-${i}`);
  const missing = expected.filter((k) => !byKey.has(k)).length;
  const duplicated = [...byKey.values()].filter((n) => n > 1).length;
  const extra = [...byKey.keys()].filter((k) => !isAnomaly(Number(k.slice(3)))).length;
  say(
    `${scenario}: ${RECORDS} records, 1 kill (node ${victim}), ${expected.length} expected flags, ${flags.length} read ` +
      `(read_committed): ${missing} missing, ${duplicated} duplicated, ${extra} extra; scorer exit ${code}; log ${logFile}`,
  );
  await admin.deleteGroups([`${names.name}.bench-watch`]).catch(() => undefined);
  await deleteKeysByPrefix(redis, names.redisPrefix).catch(() => undefined);
  await redis.quit();
  return { missing, duplicated, extra };
}

async function main(): Promise<number> {
  ensureRunSigningKey();
  const args = process.argv.slice(2);
  const only = args.includes('--scenario') ? (args[args.indexOf('--scenario') + 1] as Scenario) : undefined;
  mkdirSync(benchDir, { recursive: true });
  const t0 = Date.now();
  const cluster = await startCluster(CLUSTER);
  say(`cluster of 3 at ${cluster.brokers} ready in ${secs(Date.now() - t0)}`);
  const kafka = createKafka({
    brokers: cluster.brokers.split(','),
    clientId: 'failover-bench',
    logLevel: 'nothing',
  });
  const admin = kafka.admin();
  await admin.connect();
  const artifact = await tinyModelArtifact({ seed: 21 });
  let bad = 0;
  try {
    for (const scenario of ['partition-leader', 'transaction-coordinator'] as const) {
      if (only !== undefined && only !== scenario) continue;
      const res = await runScenario(scenario, kafka, admin, cluster.brokers, artifact);
      bad += res.missing + res.duplicated + res.extra;
    }
    for (const node of clusterNodes(CLUSTER)) {
      say(`memory: node ${node.nodeId} (port ${node.port}): ${rssMb((await kafkaStatus(node)).pid)}`);
    }
  } finally {
    await admin.disconnect();
    if (!args.includes('--keep')) {
      await stopCluster({ ...CLUSTER, purge: true });
      say('cluster stopped and its data removed');
    }
  }
  return bad === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[failover] error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
