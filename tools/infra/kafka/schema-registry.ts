/**
 * A real Confluent-compatible schema registry for development and tests: Apicurio Registry 3.x, fetched
 * from Maven Central (`io.apicurio:apicurio-registry-app:<version>:tar.gz:all`, a Quarkus fast-jar) with
 * Maven into `.cache/schema-registry/<version>/`, and run as one detached JVM (Java 21+) with in-memory
 * storage (its default H2 in-memory database), both its HTTP port and its management port (health,
 * metrics) bound to 127.0.0.1. The Confluent API answers at `http://127.0.0.1:<port>/apis/ccompat/v7`.
 *
 * Like the broker (broker.ts): idempotent `up` (a registry of ours already running is waited for; one
 * answering on the port that we did not start is reused as it is), a pid file per port checked against
 * the process's command line, so `down` stops only the registry of that port started from this cache.
 * Its storage is in memory: a restart forgets every schema.
 *
 * Environment (registryOptionsFromEnv): SMAE_SCHEMA_REGISTRY_URL (an external registry: nothing is
 * started), SCHEMA_REGISTRY_LOCAL_PORT (8081), SCHEMA_REGISTRY_MANAGEMENT_PORT (port + 1),
 * SCHEMA_REGISTRY_VERSION, SCHEMA_REGISTRY_CACHE_DIR (<repo>/.cache/schema-registry), SCHEMA_REGISTRY_JAVA
 * (a java binary of version 21 or later; default: JAVA_HOME's or the newest under /usr/lib/jvm),
 * SCHEMA_REGISTRY_READY_TIMEOUT_MS (180000).
 */
import { spawn, spawnSync } from 'node:child_process';
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
import { join } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './broker.js';
import { isAlive, parseEnv, safeRead, sleep, tail } from '../common.js';

export const DEFAULT_REGISTRY_VERSION = '3.3.3';
export const DEFAULT_REGISTRY_PORT = 8081;
/** Where Apicurio serves the Confluent schema-registry API. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';
const MIN_JAVA = 21;

export interface LocalRegistryOptions {
  /** An external registry's Confluent API URL: `up` starts nothing and waits for it. */
  externalUrl?: string;
  port?: number;
  managementPort?: number;
  version?: string;
  cacheDir?: string;
  java?: string;
  readyTimeoutMs?: number;
  progress?: (line: string) => void;
}

export interface RegistryUpResult {
  /** The Confluent-compatible API (what SMAE_SCHEMA_REGISTRY_URL takes). */
  url: string;
  outcome: 'started' | 'already-running' | 'reused-foreign' | 'external';
  pid?: number;
  /** Milliseconds from the call to an answering API. */
  readyMs: number;
  /** Of which fetching the distribution with Maven (first use only). */
  fetchMs?: number;
  logFile?: string;
}

export interface RegistryStatus {
  url: string;
  running: boolean;
  pid?: number;
  reachable: boolean;
  subjects?: number;
  logFile?: string;
}

interface Resolved {
  url: string;
  external: boolean;
  port: number;
  managementPort: number;
  version: string;
  cacheDir: string;
  appDir: string;
  pidFile: string;
  logFile: string;
  java: string | undefined;
  readyTimeoutMs: number;
  progress: (line: string) => void;
}

function resolveOptions(opts: LocalRegistryOptions): Resolved {
  const port = opts.port ?? DEFAULT_REGISTRY_PORT;
  const version = opts.version ?? DEFAULT_REGISTRY_VERSION;
  const cacheDir = opts.cacheDir ?? join(REPO_ROOT, '.cache', 'schema-registry');
  const external = opts.externalUrl !== undefined && opts.externalUrl !== '';
  return {
    url: external ? opts.externalUrl!.replace(/\/+$/, '') : localRegistryUrl(port),
    external,
    port,
    managementPort: opts.managementPort ?? port + 1,
    version,
    cacheDir,
    appDir: join(cacheDir, version),
    pidFile: join(cacheDir, `registry-${port}.pid`),
    logFile: join(cacheDir, `registry-${port}.log`),
    java: opts.java,
    readyTimeoutMs: opts.readyTimeoutMs ?? 180_000,
    progress: opts.progress ?? (() => undefined),
  };
}

/** The Confluent API of a local registry on `port`. */
export function localRegistryUrl(port = DEFAULT_REGISTRY_PORT): string {
  return `http://127.0.0.1:${port}${CCOMPAT_PATH}`;
}

const port = z.coerce.number().int().min(1).max(65535);
const envSchema = z.object({
  SMAE_SCHEMA_REGISTRY_URL: z.url().optional(),
  SCHEMA_REGISTRY_LOCAL_PORT: port.optional(),
  SCHEMA_REGISTRY_MANAGEMENT_PORT: port.optional(),
  SCHEMA_REGISTRY_VERSION: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/)
    .optional(),
  SCHEMA_REGISTRY_CACHE_DIR: z.string().min(1).optional(),
  SCHEMA_REGISTRY_JAVA: z.string().min(1).optional(),
  SCHEMA_REGISTRY_READY_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
});

/** Registry options from the environment (the infra CLI and test/run.ts read the same variables). */
export function registryOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  progress?: (line: string) => void,
): LocalRegistryOptions {
  const e = parseEnv(envSchema, env);
  return {
    ...(e.SMAE_SCHEMA_REGISTRY_URL !== undefined ? { externalUrl: e.SMAE_SCHEMA_REGISTRY_URL } : {}),
    ...(e.SCHEMA_REGISTRY_LOCAL_PORT !== undefined ? { port: e.SCHEMA_REGISTRY_LOCAL_PORT } : {}),
    ...(e.SCHEMA_REGISTRY_MANAGEMENT_PORT !== undefined
      ? { managementPort: e.SCHEMA_REGISTRY_MANAGEMENT_PORT }
      : {}),
    ...(e.SCHEMA_REGISTRY_VERSION !== undefined ? { version: e.SCHEMA_REGISTRY_VERSION } : {}),
    ...(e.SCHEMA_REGISTRY_CACHE_DIR !== undefined ? { cacheDir: e.SCHEMA_REGISTRY_CACHE_DIR } : {}),
    ...(e.SCHEMA_REGISTRY_JAVA !== undefined ? { java: e.SCHEMA_REGISTRY_JAVA } : {}),
    ...(e.SCHEMA_REGISTRY_READY_TIMEOUT_MS !== undefined
      ? { readyTimeoutMs: e.SCHEMA_REGISTRY_READY_TIMEOUT_MS }
      : {}),
    ...(progress !== undefined ? { progress } : {}),
  };
}

/** Fetches (first use), starts and waits for the registry; reuses one that already answers. */
export async function ensureRegistry(opts: LocalRegistryOptions = {}): Promise<RegistryUpResult> {
  const r = resolveOptions(opts);
  const t0 = Date.now();
  if (r.external) {
    await waitUntilReady(r, () => undefined);
    return { url: r.url, outcome: 'external', readyMs: Date.now() - t0 };
  }
  const mine = runningPid(r);
  if (mine !== undefined) {
    await waitUntilReady(r, () => assertAlive(r, mine));
    return {
      url: r.url,
      outcome: 'already-running',
      pid: mine,
      readyMs: Date.now() - t0,
      logFile: r.logFile,
    };
  }
  if (await answers(r.url, 2000)) {
    r.progress(`a registry we did not start answers at ${r.url}: reusing it`);
    return { url: r.url, outcome: 'reused-foreign', readyMs: Date.now() - t0 };
  }
  mkdirSync(r.cacheDir, { recursive: true });
  const fetchMs = fetchDistribution(r);
  const java = findJava(r.java);
  const pid = startJvm(r, java);
  r.progress(`started Apicurio Registry ${r.version} (pid ${pid}, ${java}); log: ${r.logFile}`);
  await waitUntilReady(r, () => assertAlive(r, pid));
  return { url: r.url, outcome: 'started', pid, readyMs: Date.now() - t0, fetchMs, logFile: r.logFile };
}

/** Stops the registry this cache started on this port (SIGTERM, then SIGKILL after 15 s). */
export async function stopRegistry(
  opts: LocalRegistryOptions = {},
): Promise<{ pid?: number; detail: string }> {
  const r = resolveOptions(opts);
  const pid = runningPid(r);
  if (pid === undefined) {
    rmSync(r.pidFile, { force: true });
    return { detail: `no registry of ours runs on port ${r.port}` };
  }
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
  rmSync(r.pidFile, { force: true });
  return { pid, detail: 'stopped' };
}

export async function registryStatus(opts: LocalRegistryOptions = {}): Promise<RegistryStatus> {
  const r = resolveOptions(opts);
  const pid = r.external ? undefined : runningPid(r);
  const subjects = await countSubjects(r.url, 3000);
  return {
    url: r.url,
    running: pid !== undefined,
    ...(pid !== undefined ? { pid, logFile: r.logFile } : {}),
    reachable: subjects !== undefined,
    ...(subjects !== undefined ? { subjects } : {}),
  };
}

// --- fetching and starting -----------------------------------------------------------------------

function fetchDistribution(r: Resolved): number {
  const marker = join(r.appDir, '.complete');
  if (existsSync(marker)) return 0;
  const t0 = Date.now();
  const tmp = `${r.appDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const artifact = `io.apicurio:apicurio-registry-app:${r.version}:tar.gz:all`;
  r.progress(`fetching ${artifact} with Maven (about 160 MB, first use only)…`);
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${tmp}`],
    {
      cwd: r.cacheDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    },
  );
  if (mvn.error !== undefined) throw new Error(`cannot run mvn (is Maven installed?): ${mvn.error.message}`);
  const archive = join(tmp, `apicurio-registry-app-${r.version}-all.tar.gz`);
  if (mvn.status !== 0 || !existsSync(archive)) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `mvn could not fetch ${artifact} (exit ${mvn.status}):\n${tail(`${mvn.stdout}\n${mvn.stderr}`, 30)}`,
    );
  }
  const untar = spawnSync('tar', ['-xzf', archive, '-C', tmp], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  rmSync(archive, { force: true });
  if (untar.status !== 0 || !existsSync(join(tmp, 'quarkus-run.jar'))) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`unpacking ${artifact} failed: ${untar.stderr ?? untar.error?.message}`);
  }
  writeFileSync(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  rmSync(r.appDir, { recursive: true, force: true });
  renameSync(tmp, r.appDir);
  const ms = Date.now() - t0;
  r.progress(`fetched and unpacked in ${(ms / 1000).toFixed(1)} s`);
  return ms;
}

/** The major version `java -version` reports, or undefined if it does not run. */
export function javaMajorVersion(java: string): number | undefined {
  const res = spawnSync(java, ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.status !== 0) return undefined;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${res.stderr}${res.stdout}`);
  if (m === null) return undefined;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

/** A java of version 21 or later: the configured one, JAVA_HOME's, PATH's, or the newest in /usr/lib/jvm. */
export function findJava(configured?: string): string {
  if (configured !== undefined) {
    const v = javaMajorVersion(configured);
    if (v === undefined || v < MIN_JAVA) {
      throw new Error(
        `SCHEMA_REGISTRY_JAVA=${configured} is ${v === undefined ? 'not runnable' : `Java ${v}`}; Apicurio Registry needs Java ${MIN_JAVA}+`,
      );
    }
    return configured;
  }
  const candidates: string[] = [];
  const home = process.env.JAVA_HOME;
  if (home !== undefined && home !== '') candidates.push(join(home, 'bin', 'java'));
  candidates.push('java');
  const jvmRoot = '/usr/lib/jvm';
  if (existsSync(jvmRoot)) {
    for (const d of readdirSync(jvmRoot).sort().reverse()) candidates.push(join(jvmRoot, d, 'bin', 'java'));
  }
  let best: { java: string; version: number } | undefined;
  for (const java of candidates) {
    if (java !== 'java' && !existsSync(java)) continue;
    const v = javaMajorVersion(java);
    if (v !== undefined && v >= MIN_JAVA && (best === undefined || v > best.version))
      best = { java, version: v };
  }
  if (best === undefined) {
    throw new Error(
      `Apicurio Registry needs Java ${MIN_JAVA}+; none found (set SCHEMA_REGISTRY_JAVA to a java binary)`,
    );
  }
  return best.java;
}

function startJvm(r: Resolved, java: string): number {
  const out = openSync(r.logFile, 'a');
  try {
    const child = spawn(
      java,
      [
        '-Xms64m',
        '-Xmx512m',
        '-XX:+UseSerialGC',
        // C1 only: a development registry starts faster and needs no peak throughput.
        '-XX:TieredStopAtLevel=1',
        '-XX:+ExitOnOutOfMemoryError',
        // A class-data archive made on the first start and reused after (faster later starts).
        '-XX:+AutoCreateSharedArchive',
        `-XX:SharedArchiveFile=${join(r.appDir, 'registry.jsa')}`,
        '-Dquarkus.http.host=127.0.0.1',
        `-Dquarkus.http.port=${r.port}`,
        '-Dquarkus.management.host=127.0.0.1',
        `-Dquarkus.management.port=${r.managementPort}`,
        '-Dquarkus.http.access-log.enabled=false',
        '-Dapicurio.storage.kind=sql',
        '-Dapicurio.storage.sql.kind=h2',
        `-Dsmae.registry.cache=${r.cacheDir}`,
        '-jar',
        join(r.appDir, 'quarkus-run.jar'),
      ],
      { cwd: r.appDir, detached: true, stdio: ['ignore', out, out] },
    );
    if (child.pid === undefined) throw new Error(`could not start ${java}`);
    child.unref();
    writeFileSync(r.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

// --- processes and readiness ----------------------------------------------------------------------

/** The pid file's process if it is alive and is the registry of this cache and port. */
function runningPid(r: Resolved): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(r.pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (
      !cmdline.includes(`-Dsmae.registry.cache=${r.cacheDir}`) ||
      !cmdline.includes(`-Dquarkus.http.port=${r.port}`)
    ) {
      return undefined;
    }
  } catch {
    // No /proc (not Linux): trust the pid file.
  }
  return pid;
}

function assertAlive(r: Resolved, pid: number): void {
  if (isAlive(pid)) return;
  rmSync(r.pidFile, { force: true });
  throw new Error(
    `the schema registry (pid ${pid}) exited during start-up. Last lines of ${r.logFile}:\n${tail(safeRead(r.logFile), 30)}`,
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

async function countSubjects(url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as unknown;
    return Array.isArray(body) ? body.length : undefined;
  } catch {
    return undefined;
  }
}

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  return (await countSubjects(url, timeoutMs)) !== undefined;
}

async function waitUntilReady(r: Resolved, check: () => void): Promise<void> {
  const deadline = Date.now() + r.readyTimeoutMs;
  while (!(await answers(r.url, 2000))) {
    check();
    if (Date.now() > deadline) {
      throw new Error(
        `the schema registry at ${r.url} did not answer within ${r.readyTimeoutMs} ms (log: ${r.logFile})`,
      );
    }
    await sleep(250);
  }
}
