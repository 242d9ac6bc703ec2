/**
 * Authenticated Kafka for real: a local broker with a SASL_SSL listener (SCRAM-SHA-512 over TLS, a CA
 * and broker certificate made for this test with openssl, the user created by the broker's own
 * `kafka-storage format --add-scram`), and the trainer, the scorer and the alerts service running through
 * it as separate processes. A wrong password and an untrusted certificate make the scorer exit with a
 * clear error; no secret appears in any line the processes wrote.
 *
 * Ports: 29692 (PLAINTEXT, the broker's own), 29693 (controller), 29694 (SASL_SSL, the clients').
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REPO_ROOT,
  ensureKafka,
  stopKafka,
  type LocalBrokerOptions,
} from '../../tools/infra/kafka/broker.js';
import { makeCertificateAuthority, makeTestCertificates } from '../../tools/infra/kafka/certs.js';
import { TRANSACTION_SCHEMA, bundledSchemaPath } from '../../shared/avro/index.js';
import { createKafka, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { kafkajsAdmin } from '../../shared/kafka/kafkajs-admin.js';
import { pipelineNames } from '../../shared/pipeline.js';
import { createRedis, deleteKeysByPrefix, redisUrlFromEnv } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { waitFor } from '../helpers/wait.js';
import {
  TRANSACTION_SCHEMA_ID,
  anomalousTransaction,
  encodeTransaction,
  normalTransaction,
  readTopicToEnd,
  rng,
} from '../fixtures/transactions.js';

const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;
const dir = join(REPO_ROOT, '.cache', 'sasl-ssl-test');
const password = `pw-${randomBytes(12).toString('hex')}`;
const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
let keystorePassword = '';
let caFile = '';
let otherCaFile = '';
const broker: LocalBrokerOptions = {
  cacheDir: join(REPO_ROOT, '.cache', 'kafka'),
  port: 29692,
  controllerPort: 29693,
  jvmOptions: ['-Xms96m', '-Xmx384m'],
  readyTimeoutMs: 240_000,
};
const saslEnv = (): Record<string, string> => ({
  KAFKA_BROKERS: '127.0.0.1:29694',
  KAFKA_SSL: 'true',
  KAFKA_SSL_CA_FILE: caFile,
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'smae-service',
  KAFKA_SASL_PASSWORD: password,
});

interface Run {
  code: number | null;
  output: string;
}
interface Running {
  done: Promise<Run>;
  output(): string;
  stop(): Promise<Run>;
}
const outputs: string[] = [];

/** Starts a process, keeping everything it writes; `stop()` sends SIGTERM and waits for its end. */
function startProcess(args: string[], env: Record<string, string>, timeoutMs = 240_000): Running {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<Run>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      outputs.push(output);
      resolve({ code, output });
    }),
  );
  return {
    done,
    output: () => output,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return done;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Every secret of this test that must never be logged. */
const secrets = (): string[] => [password, wrongPassword, keystorePassword];

before(async () => {
  if (!HAVE_OPENSSL) return;
  rmSync(dir, { recursive: true, force: true });
  const certs = makeTestCertificates(dir);
  caFile = certs.caFile;
  keystorePassword = certs.keystorePassword;
  otherCaFile = makeCertificateAuthority(join(dir, 'other'), 'untrusted-ca');
  await stopKafka({ ...broker, purge: true });
  await ensureKafka({
    ...broker,
    saslSsl: { port: 29694, keystoreFile: certs.keystoreFile, keystorePassword },
    scramUsers: [{ username: 'smae-service', password }],
  });
});

after(async () => {
  await stopKafka({ ...broker, purge: true }).catch(() => undefined);
  rmSync(join(broker.cacheDir!, 'nodes', String(broker.port)), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe(
  'Kafka over SASL_SSL (SCRAM-SHA-512)',
  { skip: HAVE_OPENSSL ? false : 'openssl is not installed' },
  () => {
    test('trainer, scorer and alerts run through the authenticated listener; no secret in their logs', async (t) => {
      const names = pipelineNames(`sasl-${randomBytes(4).toString('hex')}`);
      const kafka = createKafka(kafkaConnectionFromEnv(saslEnv(), { clientId: 'sasl-test' }));
      const admin = kafka.admin();
      await admin.connect();
      t.after(() => admin.disconnect());
      await ensurePipelineTopics(kafkajsAdmin(admin), names, { partitions: 2 });
      const redis = createRedis(redisUrlFromEnv(process.env));
      t.after(async () => {
        await deleteKeysByPrefix(redis, names.redisPrefix);
        await redis.quit();
      });
      const schemaDir = join(dir, 'schemas');
      mkdirSync(schemaDir, { recursive: true });
      writeFileSync(
        join(schemaDir, `${TRANSACTION_SCHEMA_ID}.avsc`),
        JSON.stringify(TRANSACTION_SCHEMA.schema()),
      );

      // 400 ordinary records to train on, through the authenticated listener.
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      t.after(() => producer.disconnect());
      const r = rng(5);
      const normal = Array.from({ length: 400 }, (_, i) => ({
        key: `n-${i}`,
        value: encodeTransaction(normalTransaction(i, r)),
      }));
      await producer.send({ topic: names.topics.records, acks: -1, messages: normal });

      // A consumer group through the listener first: on a broker this fresh the group coordinator is still
      // loading, which the trainer's one-shot topic reader does not wait out.
      await readTopicToEnd(kafka, admin, names.topics.deadLetters);
      const train = await startProcess(
        [
          join(REPO_ROOT, 'bin/smae.js'),
          'train',
          '--topic',
          names.topics.records,
          '--last',
          '400',
          '--schema-dir',
          schemaDir,
          '--pipeline',
          names.name,
          '--exclude',
          'accountId,eventTime',
          '--categorical',
          'channel',
          '--scale',
          'standard',
          // The report's single network: 400 rows are too few for the default profile's 1 % calibration.
          '--profile',
          'report',
          '--epochs',
          '5',
          '--percentile',
          '100',
          '--backend',
          'cpu',
          '--seed',
          '1',
        ],
        saslEnv(),
      ).done;
      assert.equal(train.code, 0, train.output);
      const registry = new ModelRegistry({ redis, pipeline: names.name });
      assert.equal(await registry.currentVersion(), 1);

      // Three anomalies among more ordinary records: the scorer flags them, alerts delivers them.
      const anomalies = [100, 200, 300];
      await producer.send({
        topic: names.topics.records,
        acks: -1,
        messages: Array.from({ length: 400 }, (_, i) => ({
          key: `m-${i}`,
          value: encodeTransaction(
            anomalies.includes(i)
              ? { ...anomalousTransaction(i), accountId: `bad-${i}` }
              : normalTransaction(i, r),
          ),
        })),
      });
      const serviceEnv = {
        ...saslEnv(),
        SMAE_PIPELINE: names.name,
        SMAE_RECORD_SCHEMA: bundledSchemaPath('transaction'),
        SMAE_SCHEMA_IDS_DIR: schemaDir,
        SMAE_KEY_FIELD: 'accountId',
        SMAE_EVENT_TIME_FIELD: 'eventTime',
        SMAE_METRICS_PORT: String(await freePort()),
        SMAE_METRICS_HOST: '127.0.0.1',
        SMAE_BACKEND: 'cpu',
        SMAE_LOG_LEVEL: 'debug',
        KAFKA_LOG_LEVEL: 'debug',
      };
      const scorer = startProcess(['--import', 'tsx', 'services/scorer/main.ts'], serviceEnv);
      t.after(() => scorer.stop());
      let flags: Awaited<ReturnType<typeof readTopicToEnd>> = [];
      await waitFor(
        async () => {
          flags = await readTopicToEnd(kafka, admin, names.topics.flags);
          return flags.length >= anomalies.length;
        },
        { timeoutMs: 180_000, intervalMs: 2000, message: 'the flags, through SASL_SSL' },
      );
      const alerts = startProcess(
        [join(REPO_ROOT, 'bin/smae.js'), 'alerts', '--pipeline', names.name, '--from-beginning'],
        {
          ...serviceEnv,
          SMAE_METRICS_PORT: String(await freePort()),
        },
      );
      t.after(() => alerts.stop());
      await waitFor(() => anomalies.every((a) => alerts.output().includes(`bad-${a}`)), {
        timeoutMs: 120_000,
        intervalMs: 500,
        message: 'an alert for each anomaly',
      });
      const [scorerRun, alertsRun] = await Promise.all([scorer.stop(), alerts.stop()]);
      assert.equal(flags.length, anomalies.length);
      assert.equal(scorerRun.code, 0, scorerRun.output.slice(-2000));
      assert.equal(alertsRun.code, 0, alertsRun.output.slice(-2000));
      assert.match(scorerRun.output, /consuming/);

      // Debug-level logs of three services and kafkajs: none carries a password or the keystore's.
      for (const out of [train.output, scorerRun.output, alertsRun.output]) {
        for (const secret of secrets()) assert.ok(!out.includes(secret), 'a secret appeared in a log line');
      }
    });

    test('a wrong password and an untrusted certificate make the scorer exit at once with a clear error', async () => {
      const base = {
        SMAE_PIPELINE: `sasl-bad-${randomBytes(4).toString('hex')}`,
        SMAE_RECORD_SCHEMA: bundledSchemaPath('transaction'),
        SMAE_METRICS_PORT: String(await freePort()),
        SMAE_METRICS_HOST: '127.0.0.1',
        SMAE_ENSURE_TOPICS: 'true',
        SMAE_BACKEND: 'cpu',
        SMAE_LOG_LEVEL: 'debug',
      };
      const wrong = await startProcess(['--import', 'tsx', 'services/scorer/main.ts'], {
        ...saslEnv(),
        ...base,
        KAFKA_SASL_PASSWORD: wrongPassword,
      }).done;
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.output, /authentication failed.*invalid credentials/i);

      const untrusted = await startProcess(['--import', 'tsx', 'services/scorer/main.ts'], {
        ...saslEnv(),
        ...base,
        KAFKA_SSL_CA_FILE: otherCaFile,
      }).done;
      assert.notEqual(untrusted.code, 0);
      assert.match(untrusted.output, /TLS certificate is not trusted/);
      assert.match(untrusted.output, /KAFKA_SSL_CA_FILE/);
      assert.doesNotMatch(untrusted.output, /KafkaJSNumberOfRetriesExceeded/);

      for (const out of [wrong.output, untrusted.output]) {
        for (const secret of secrets()) assert.ok(!out.includes(secret), 'a secret appeared in a log line');
      }
    });
  },
);
