/**
 * The local development broker: a real Apache Kafka (KRaft, one node that is broker and controller)
 * fetched from Maven Central into the git-ignored `.cache/kafka`, started as a detached `java` process
 * and stopped by its pid. Used by `npm run infra:up|down|status` (tools/infra/kafka/cli.ts) and by the test
 * runner (test/run.ts), so both bring the broker up the same way.
 *
 * Layout of the cache directory (default `<repo>/.cache/kafka`):
 *   libs/<version>/       the broker's jars (a `.complete` marker is written once the copy succeeded)
 *   fetch.lock            held while jars are fetched
 *   nodes/<port>/         one broker per client port, so several can run side by side:
 *     data/               KRaft metadata and topic data (formatted on first start)
 *     logs/server.log     the broker's log4j output; logs/kafka.out its stdout/stderr
 *     server.properties   rendered from tools/infra/kafka/server.properties.template
 *     kafka.pid           the running process; state.json what its storage was formatted with
 *     up.lock             held while one `up` formats/starts it, so concurrent `up`s do not race
 *
 * A broker is identified by its cache folder and port, never by "whatever pid file is there": the pid
 * in `nodes/<port>/kafka.pid` counts only if that process is alive and its command line runs
 * `kafka.Kafka` with exactly this node's `server.properties` (`ownedPid`). So `down` stops only a broker
 * it can prove is the one asked for, and `status` lists every node it knows (`knownBrokers`).
 * (Brokers started by the earlier one-broker layout — `<cache>/kafka.pid`, `<cache>/server.properties` —
 * are recognised the same way, by their command line and the port in their configuration.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKafka } from '../../../shared/kafka/client.js';
import { isAlive, safeRead, sleep, tail } from '../common.js';

/**
 * The Kafka version fetched unless KAFKA_VERSION says otherwise. Checked with kafkajs 2.2.4, including
 * transactions (test/integration/kafka-transactions.test.ts).
 */
export const DEFAULT_KAFKA_VERSION = '4.3.1';

/** This folder: the Maven project, the configuration template and the log4j2 configuration. */
const INFRA_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(INFRA_DIR, '..', '..', '..');

export interface LocalBrokerOptions {
  /** Default `<repo>/.cache/kafka`. */
  cacheDir?: string;
  version?: string;
  /** Interface the broker listens on; only loopback is meant. */
  host?: string;
  port?: number;
  controllerPort?: number;
  /** How long `up` waits for the broker to answer after starting it (default 120 s). */
  readyTimeoutMs?: number;
  /** Extra JVM options, e.g. a heap size (env KAFKA_JVM_OPTS in the CLI). */
  jvmOptions?: string[];
  /**
   * An extra `SASL_SSL` listener (SCRAM-SHA-512 over TLS) on `port`, with the broker's key and
   * certificate in a PKCS#12 keystore (`tools/infra/kafka/certs.ts` makes one for tests). Clients then
   * connect there; the PLAINTEXT listener stays on loopback for the broker's own (inter-broker) traffic.
   */
  saslSsl?: { port: number; keystoreFile: string; keystorePassword: string };
  /** SCRAM-SHA-512 users created when the storage is formatted (kafka-storage format --add-scram). */
  scramUsers?: readonly { username: string; password: string }[];
  /** server.properties lines that replace (or are added to) the template's, e.g. for a cluster node. */
  properties?: Readonly<Record<string, string>>;
  /** The KRaft cluster id to format with (every node of a cluster shares one); default random. */
  clusterId?: string;
  /** Progress lines (fetching, formatting, starting, ready in N ms). Default: none. */
  progress?: (line: string) => void;
}

interface Resolved {
  cacheDir: string;
  version: string;
  host: string;
  port: number;
  controllerPort: number;
  readyTimeoutMs: number;
  jvmOptions: string[];
  progress: (line: string) => void;
  saslSsl: LocalBrokerOptions['saslSsl'];
  scramUsers: readonly { username: string; password: string }[];
  properties: Readonly<Record<string, string>>;
  clusterId: string | undefined;
  libsDir: string;
  nodeDir: string;
  dataDir: string;
  logsDir: string;
  pidFile: string;
  stateFile: string;
  lockFile: string;
  configFile: string;
}

interface FormatState {
  version: string;
  clusterId: string;
  formattedAt: string;
}

export interface BrokerUpResult {
  /** host:port to put in KAFKA_BROKERS. */
  brokers: string;
  /** `started` this call, `reused` a running one, `external` (KAFKA_BROKERS elsewhere: nothing started). */
  outcome: 'started' | 'reused' | 'external';
  /** Milliseconds from the call until an admin client listed topics. */
  readyMs: number;
  pid?: number;
  version?: string;
  /** Milliseconds spent fetching jars (0 when cached), formatting storage and starting the JVM. */
  fetchMs?: number;
  formatMs?: number;
}

export interface BrokerStatus {
  brokers: string;
  managed: boolean;
  running: boolean;
  reachable: boolean;
  pid?: number;
  version?: string;
  topics?: number;
  logFile?: string;
  detail?: string;
}

function resolveOptions(opts: LocalBrokerOptions): Resolved {
  const cacheDir = resolve(opts.cacheDir ?? join(REPO_ROOT, '.cache', 'kafka'));
  const version = opts.version ?? DEFAULT_KAFKA_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`KAFKA_VERSION must look like 4.1.1, got "${version}"`);
  const port = opts.port ?? 9092;
  const nodeDir = join(cacheDir, 'nodes', String(port));
  return {
    cacheDir,
    version,
    host: opts.host ?? '127.0.0.1',
    port,
    controllerPort: opts.controllerPort ?? 9093,
    readyTimeoutMs: opts.readyTimeoutMs ?? 120_000,
    jvmOptions: opts.jvmOptions ?? [],
    progress: opts.progress ?? (() => undefined),
    saslSsl: opts.saslSsl,
    scramUsers: opts.scramUsers ?? [],
    properties: opts.properties ?? {},
    clusterId: opts.clusterId,
    libsDir: join(cacheDir, 'libs', version),
    nodeDir,
    dataDir: join(nodeDir, 'data'),
    logsDir: join(nodeDir, 'logs'),
    pidFile: join(nodeDir, 'kafka.pid'),
    stateFile: join(nodeDir, 'state.json'),
    lockFile: join(nodeDir, 'up.lock'),
    configFile: join(nodeDir, 'server.properties'),
  };
}

/** The bootstrap address of the local broker for these options. */
export function localBrokerAddress(opts: LocalBrokerOptions = {}): string {
  const r = resolveOptions(opts);
  return `${r.host}:${r.port}`;
}

/**
 * True if `brokersEnv` (a KAFKA_BROKERS value) names exactly the local broker, so `up` should manage it;
 * anything else (another host or port, or several brokers) is an external cluster.
 */
export function isLocalBrokerList(brokersEnv: string | undefined, opts: LocalBrokerOptions = {}): boolean {
  if (brokersEnv === undefined || brokersEnv.trim() === '') return true;
  const r = resolveOptions(opts);
  const list = brokersEnv
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  const local = new Set([`127.0.0.1:${r.port}`, `localhost:${r.port}`, `${r.host}:${r.port}`]);
  return list.length > 0 && list.every((b) => local.has(b));
}

/**
 * Brings the broker up and waits until it answers: reuses a running one (ours from the pid file, or
 * any broker already answering on the port), otherwise fetches the jars if needed, formats the storage
 * on first use and starts it detached. With `brokersEnv` naming another cluster, only waits for that one.
 */
export async function ensureKafka(
  opts: LocalBrokerOptions & { brokersEnv?: string } = {},
): Promise<BrokerUpResult> {
  const t0 = Date.now();
  const r = resolveOptions(opts);
  if (!isLocalBrokerList(opts.brokersEnv, opts)) {
    const brokers = (opts.brokersEnv ?? '').trim();
    r.progress(
      `KAFKA_BROKERS=${brokers} is not the local broker: not starting one, waiting for it to answer`,
    );
    await waitUntilReady(brokers.split(','), r.readyTimeoutMs, () => undefined);
    return { brokers, outcome: 'external', readyMs: Date.now() - t0 };
  }
  const brokers = `${r.host}:${r.port}`;
  mkdirSync(r.nodeDir, { recursive: true });

  const release = await acquireLock(r.lockFile, r.progress, 'is starting this broker');
  try {
    const running = ownedPid(r);
    if (running !== undefined) {
      r.progress(`Kafka already running (pid ${running.pid}) at ${brokers}`);
      await waitUntilReady([brokers], r.readyTimeoutMs, () => assertAlive(r, running.pid));
      return {
        brokers,
        outcome: 'reused',
        readyMs: Date.now() - t0,
        pid: running.pid,
        version: readState(r)?.version,
      };
    }
    if (await answers([brokers], 1500)) {
      r.progress(`a Kafka broker not started by this script already answers at ${brokers}: reusing it`);
      return { brokers, outcome: 'reused', readyMs: Date.now() - t0 };
    }

    const tFetch = Date.now();
    await fetchJars(r);
    const fetchMs = Date.now() - tFetch;

    writeConfig(r);
    const tFormat = Date.now();
    formatStorage(r);
    const formatMs = Date.now() - tFormat;

    const pid = startJvm(r);
    r.progress(`started Kafka ${r.version} (pid ${pid}), waiting for ${brokers} to answer…`);
    await waitUntilReady([brokers], r.readyTimeoutMs, () => assertAlive(r, pid));
    const readyMs = Date.now() - t0;
    r.progress(`Kafka ${r.version} ready at ${brokers} in ${(readyMs / 1000).toFixed(1)} s`);
    return { brokers, outcome: 'started', readyMs, pid, version: r.version, fetchMs, formatMs };
  } finally {
    release();
  }
}

/**
 * Stops the broker this script started for this cache folder and port (SIGTERM to its process group,
 * SIGKILL after `graceMs`), and only if its command line proves it is that broker.
 */
export async function stopKafka(
  opts: LocalBrokerOptions & { graceMs?: number; purge?: boolean } = {},
): Promise<{ stopped: boolean; pid?: number; detail: string }> {
  const r = resolveOptions(opts);
  const owned = ownedPid(r);
  let result: { stopped: boolean; pid?: number; detail: string };
  if (owned === undefined) {
    const mismatch = pidFileMismatch(r);
    if (mismatch === undefined) rmSync(r.pidFile, { force: true });
    result = {
      stopped: false,
      detail:
        mismatch ?? `no broker started by this script is running on port ${r.port} (cache ${r.cacheDir})`,
    };
  } else {
    const pid = owned.pid;
    r.progress(`stopping Kafka (pid ${pid}, port ${r.port})…`);
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + (opts.graceMs ?? 30_000);
    while (isAlive(pid) && Date.now() < deadline) await sleep(200);
    let detail = 'stopped';
    if (isAlive(pid)) {
      signalGroup(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(100);
      detail = 'killed after the grace period';
    }
    rmSync(owned.pidFile, { force: true });
    result = { stopped: true, pid, detail };
  }
  if (opts.purge === true) {
    rmSync(r.dataDir, { recursive: true, force: true });
    rmSync(r.stateFile, { force: true });
    result.detail += '; data removed';
  }
  return result;
}

/** What is running where, and whether it answers. */
export async function kafkaStatus(
  opts: LocalBrokerOptions & { brokersEnv?: string } = {},
): Promise<BrokerStatus> {
  const r = resolveOptions(opts);
  if (!isLocalBrokerList(opts.brokersEnv, opts)) {
    const list = (opts.brokersEnv ?? '').split(',').map((b) => b.trim());
    const topics = await countTopics(list, 3000);
    return {
      brokers: list.join(','),
      managed: false,
      running: topics !== undefined,
      reachable: topics !== undefined,
      ...(topics !== undefined ? { topics } : {}),
      detail: 'external cluster (KAFKA_BROKERS)',
    };
  }
  const brokers = `${r.host}:${r.port}`;
  const pid = ownedPid(r)?.pid;
  const topics = await countTopics([brokers], 3000);
  const state = readState(r);
  return {
    brokers,
    managed: pid !== undefined,
    running: pid !== undefined || topics !== undefined,
    reachable: topics !== undefined,
    ...(pid !== undefined ? { pid } : {}),
    ...(state !== undefined ? { version: state.version } : {}),
    ...(topics !== undefined ? { topics } : {}),
    logFile: join(r.logsDir, 'server.log'),
    ...(pid === undefined && topics !== undefined
      ? { detail: 'answering, but not started by this script for this cache folder and port' }
      : {}),
  };
}

/** Every broker this cache folder knows (a node directory per port, plus the earlier layout), with status. */
export async function knownBrokers(opts: LocalBrokerOptions = {}): Promise<BrokerStatus[]> {
  const r = resolveOptions(opts);
  const ports = new Set<number>();
  try {
    for (const d of readdirSync(join(r.cacheDir, 'nodes'))) if (/^\d+$/.test(d)) ports.add(Number(d));
  } catch {
    // no nodes yet
  }
  const legacy = legacyPort(r.cacheDir);
  if (legacy !== undefined) ports.add(legacy);
  const out: BrokerStatus[] = [];
  for (const port of [...ports].sort((a, b) => a - b)) {
    out.push(await kafkaStatus({ ...opts, port, controllerPort: port + 1 }));
  }
  return out;
}

// --- fetching, formatting, starting ------------------------------------------------------------

async function fetchJars(r: Resolved): Promise<void> {
  if (existsSync(join(r.libsDir, '.complete'))) return;
  const release = await acquireLock(join(r.cacheDir, 'fetch.lock'), r.progress, 'is fetching Kafka');
  try {
    fetchJarsLocked(r);
  } finally {
    release();
  }
}

function fetchJarsLocked(r: Resolved): void {
  if (existsSync(join(r.libsDir, '.complete'))) return;
  const tmp = `${r.libsDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  r.progress(`fetching Kafka ${r.version} and its dependencies with Maven into ${r.libsDir}…`);
  const t0 = Date.now();
  const res = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      join(INFRA_DIR, 'pom.xml'),
      `-Dkafka.version=${r.version}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${tmp}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  if (res.error !== undefined) throw new Error(`cannot run mvn (is Maven installed?): ${res.error.message}`);
  if (res.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`mvn failed (exit ${res.status}):\n${tail(`${res.stdout}\n${res.stderr}`, 40)}`);
  }
  if (!readdirSync(tmp).some((f) => f.startsWith(`kafka_2.13-${r.version}`))) {
    throw new Error(`mvn finished but ${tmp} holds no kafka_2.13-${r.version} jar`);
  }
  writeFileSync(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  rmSync(r.libsDir, { recursive: true, force: true });
  mkdirSync(dirname(r.libsDir), { recursive: true });
  renameSync(tmp, r.libsDir);
  r.progress(
    `fetched ${readdirSync(r.libsDir).length - 1} jars in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

function writeConfig(r: Resolved): void {
  const template = readFileSync(join(INFRA_DIR, 'server.properties.template'), 'utf8');
  const values: Record<string, string> = {
    HOST: r.host,
    PORT: String(r.port),
    CONTROLLER_PORT: String(r.controllerPort),
    DATA_DIR: r.dataDir,
  };
  const rendered = template.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
  writeFileSync(r.configFile, applyProperties(rendered, brokerProperties(r)));
}

/** The properties this node adds to (or changes in) the template: the SASL_SSL listener, overrides. */
function brokerProperties(r: Resolved): Record<string, string> {
  const out: Record<string, string> = {};
  if (r.saslSsl !== undefined) {
    const { port, keystoreFile, keystorePassword } = r.saslSsl;
    Object.assign(out, {
      listeners: `PLAINTEXT://${r.host}:${r.port},CONTROLLER://${r.host}:${r.controllerPort},SASL_SSL://${r.host}:${port}`,
      'advertised.listeners': `PLAINTEXT://${r.host}:${r.port},SASL_SSL://${r.host}:${port}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': keystoreFile,
      'ssl.keystore.password': keystorePassword,
      'ssl.key.password': keystorePassword,
      'ssl.client.auth': 'none',
    });
  }
  return { ...out, ...r.properties };
}

/** Replaces `key=…` lines of a properties text, and appends keys it does not have. */
export function applyProperties(text: string, props: Readonly<Record<string, string>>): string {
  const pending = new Map(Object.entries(props));
  const lines = text.split('\n').map((line) => {
    const m = /^([A-Za-z0-9._-]+)=/.exec(line);
    if (m === null || !pending.has(m[1]!)) return line;
    const value = pending.get(m[1]!)!;
    pending.delete(m[1]!);
    return `${m[1]}=${value}`;
  });
  const extra = [...pending].map(([k, v]) => `${k}=${v}`);
  return `${lines.join('\n').trimEnd()}\n${extra.length > 0 ? `\n# Set by tools/infra/kafka/broker.ts\n${extra.join('\n')}\n` : ''}`;
}

/** Kafka's Uuid text form: 16 random bytes, base64url without padding, never starting with '-'. */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function formatStorage(r: Resolved): void {
  const state = readState(r);
  const formatted = existsSync(join(r.dataDir, 'meta.properties'));
  if (formatted && state !== undefined && state.version === r.version) return;
  if (formatted) {
    r.progress(
      `storage in ${r.dataDir} was formatted by Kafka ${state?.version ?? '(unknown)'}; ` +
        `reformatting for ${r.version} (development data is discarded)`,
    );
  }
  rmSync(r.dataDir, { recursive: true, force: true });
  mkdirSync(r.dataDir, { recursive: true });
  const clusterId = r.clusterId ?? randomClusterId();
  const scram = r.scramUsers.flatMap((u) => [
    '--add-scram',
    `SCRAM-SHA-512=[name=${u.username},password=${u.password}]`,
  ]);
  // The tool moved from the Scala core (kafka.tools) to the Java tools module in later releases.
  const classes = ['kafka.tools.StorageTool', 'org.apache.kafka.tools.StorageTool'];
  let lastOutput = '';
  for (const mainClass of classes) {
    const res = spawnSync(
      javaBinary(),
      [
        ...baseJvmArgs(r),
        mainClass,
        'format',
        '--cluster-id',
        clusterId,
        '--config',
        r.configFile,
        '--ignore-formatted',
        ...scram,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
    lastOutput = `${res.stdout}\n${res.stderr}`;
    if (res.status === 0) {
      const s: FormatState = { version: r.version, clusterId, formattedAt: new Date().toISOString() };
      writeFileSync(r.stateFile, `${JSON.stringify(s, null, 2)}\n`);
      r.progress(`formatted KRaft storage (cluster id ${clusterId})`);
      return;
    }
    if (!/Could not find or load main class|ClassNotFoundException/.test(lastOutput)) break;
  }
  // The tool may echo its arguments: never let a SCRAM password reach a message.
  const redacted = r.scramUsers.reduce((text, u) => text.split(u.password).join('***'), lastOutput);
  throw new Error(`formatting the Kafka storage failed:\n${tail(redacted, 40)}`);
}

function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  return home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java'))
    ? join(home, 'bin', 'java')
    : 'java';
}

function baseJvmArgs(r: Resolved): string[] {
  mkdirSync(r.logsDir, { recursive: true });
  return [
    '-cp',
    join(r.libsDir, '*'),
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${r.logsDir}`,
    `-Dlog4j2.configurationFile=${join(INFRA_DIR, 'log4j2.properties')}`,
  ];
}

function startJvm(r: Resolved): number {
  const out = openSync(join(r.logsDir, 'kafka.out'), 'a');
  try {
    const child = spawn(
      javaBinary(),
      [
        '-Xms256m',
        '-Xmx1g',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError',
        ...r.jvmOptions,
        ...baseJvmArgs(r),
        'kafka.Kafka',
        r.configFile,
      ],
      // Its own process group (detached) so it outlives the shell that ran `up`, and `down` can signal it.
      { cwd: r.nodeDir, detached: true, stdio: ['ignore', out, out] },
    );
    if (child.pid === undefined) throw new Error('could not start java');
    child.unref();
    writeFileSync(r.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

// --- processes, readiness, locking --------------------------------------------------------------

function readState(r: Resolved): FormatState | undefined {
  try {
    return JSON.parse(readFileSync(r.stateFile, 'utf8')) as FormatState;
  } catch {
    return undefined;
  }
}

function readPid(file: string): number | undefined {
  const pid = Number(safeRead(file).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The process's arguments, or undefined where there is no /proc. */
function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/** True if process `pid` is a Kafka broker running exactly `configFile`. */
function runsConfig(pid: number, configFile: string): boolean {
  if (!isAlive(pid)) return false;
  const args = commandLine(pid);
  if (args === undefined) return process.platform !== 'linux'; // no /proc: trust the pid file
  const main = args.indexOf('kafka.Kafka');
  return main >= 0 && args[main + 1] === configFile;
}

/**
 * The broker this script started for this cache folder and port, proven by its command line: alive,
 * `kafka.Kafka` with this node's server.properties (or, for the earlier layout, the cache folder's
 * server.properties listening on this port).
 */
function ownedPid(r: Resolved): { pid: number; pidFile: string } | undefined {
  const pid = readPid(r.pidFile);
  if (pid !== undefined && runsConfig(pid, r.configFile)) return { pid, pidFile: r.pidFile };
  const legacyPid = readPid(join(r.cacheDir, 'kafka.pid'));
  if (
    legacyPid !== undefined &&
    legacyPort(r.cacheDir) === r.port &&
    runsConfig(legacyPid, join(r.cacheDir, 'server.properties'))
  ) {
    return { pid: legacyPid, pidFile: join(r.cacheDir, 'kafka.pid') };
  }
  return undefined;
}

/** A pid file naming a live process that is not this broker: never signalled; says why. */
function pidFileMismatch(r: Resolved): string | undefined {
  const pid = readPid(r.pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  return (
    `${r.pidFile} names pid ${pid}, which is not the broker of this cache folder and port ` +
    `(its command line does not run kafka.Kafka ${r.configFile}); not stopping it`
  );
}

/** The client port of a broker in the earlier one-broker layout (`<cache>/server.properties`), if any. */
function legacyPort(cacheDir: string): number | undefined {
  if (!existsSync(join(cacheDir, 'kafka.pid'))) return undefined;
  const m = /^listeners=PLAINTEXT:\/\/[^:]+:(\d+)/m.exec(safeRead(join(cacheDir, 'server.properties')));
  return m ? Number(m[1]) : undefined;
}

function assertAlive(r: Resolved, pid: number): void {
  if (isAlive(pid)) return;
  rmSync(r.pidFile, { force: true });
  throw new Error(
    `Kafka (pid ${pid}) exited during start-up. Last lines of ${join(r.logsDir, 'kafka.out')}:\n` +
      tail(safeRead(join(r.logsDir, 'kafka.out')), 20) +
      `\nLast lines of ${join(r.logsDir, 'server.log')}:\n` +
      tail(safeRead(join(r.logsDir, 'server.log')), 30),
  );
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function countTopics(brokers: string[], timeoutMs: number): Promise<number | undefined> {
  const admin = createKafka({
    brokers,
    clientId: 'smae-infra-probe',
    connectionTimeout: Math.min(timeoutMs, 1000),
    requestTimeout: timeoutMs,
    logLevel: 'nothing',
    retry: { retries: 0 },
  }).admin();
  try {
    await withTimeout(admin.connect(), timeoutMs);
    return (await withTimeout(admin.listTopics(), timeoutMs)).length;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function answers(brokers: string[], timeoutMs: number): Promise<boolean> {
  return (await countTopics(brokers, timeoutMs)) !== undefined;
}

/** Polls until an admin client lists topics; `check` throws to abort (the JVM died). */
async function waitUntilReady(brokers: string[], timeoutMs: number, check: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    check();
    if (await answers(brokers, 2000)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Kafka at ${brokers.join(',')} did not answer within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await sleep(250);
  }
}

/**
 * An exclusive lock file holding our pid. A lock whose holder is dead is stale and taken over; a live
 * holder is waited for (it is fetching or starting the broker).
 */
async function acquireLock(
  lockFile: string,
  progress: (line: string) => void,
  doing: string,
): Promise<() => void> {
  const deadline = Date.now() + 10 * 60_000;
  let announced = false;
  mkdirSync(dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(safeRead(lockFile).trim());
    if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
      // Renaming first means only one of several waiters removes the stale lock.
      try {
        renameSync(lockFile, `${lockFile}.stale-${process.pid}`);
        rmSync(`${lockFile}.stale-${process.pid}`, { force: true });
      } catch {
        // another waiter took it over
      }
      continue;
    }
    if (!announced) {
      progress(`another process (pid ${holder}) ${doing}; waiting for it…`);
      announced = true;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for the lock ${lockFile} held by pid ${holder}`);
    await sleep(300);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
