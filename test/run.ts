/**
 * `npm test`: the whole check, in order, streaming every step's output.
 *
 *   1. typecheck   tsc --noEmit -p .
 *   2. lint        eslint .,   prettier --check .   and   jscpd (copy-paste detector, .jscpd.json)
 *   3. unit        node --test over test/unit/**\/*.test.ts
 *   4. infra       Kafka (the same code as `npm run infra:up`), the schema registry when a test that
 *                  needs it runs (`npm run registry:up`), and Redis (REDIS_URL, or a private
 *                  redis-server on a free port when nothing answers there and one is installed)
 *   5. integration node --test --test-concurrency=1 over test/integration/**\/*.test.ts
 *   6. the scorer's integration tests again with KAFKA_CLIENT=confluent (librdkafka), when built
 *                  (`npm run setup:librdkafka`)
 *
 * Flags: --unit or --integration run only that part (no typecheck/lint); --checks adds typecheck and
 * lint to them; --down stops a Kafka broker this run started (default: left running for the next run;
 * `.ci/run` stops it). Other arguments filter test files by substring of their path (a full run with
 * filters skips typecheck and lint too).
 *
 * Every step runs even if an earlier one failed, so one run reports everything; the exit code is
 * non-zero if any step failed. The last line is the total of both test runs, `tests: N passed, N failed,
 * N skipped`, parsed from a TAP copy of node's output written next to the human-readable one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve, sep } from 'node:path';
import { ensureKafka, REPO_ROOT, stopKafka, type BrokerUpResult } from '../tools/infra/kafka/broker.js';
import { localBrokerOptionsFromEnv } from '../tools/infra/kafka/options.js';
import { CONFLUENT_PACKAGE, confluentAvailable } from '../shared/kafka/confluent-adapter.js';
import {
  ensureRegistry,
  registryOptionsFromEnv,
  stopRegistry,
  type RegistryUpResult,
} from '../tools/infra/kafka/schema-registry.js';
import { runSigningEnv } from './helpers/signing.js';
import { DEFAULT_REDIS_URL, pingRedis, redisUrlFromEnv } from '../shared/redis/client.js';

interface StepResult {
  name: string;
  ok: boolean;
  skipped?: boolean;
  ms: number;
  note?: string;
}

interface TestCounts {
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
}

const results: StepResult[] = [];
const totals: TestCounts = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const resultsDir = join(REPO_ROOT, '.cache', 'test-results');

function banner(text: string): void {
  process.stdout.write(`\n━━━ ${text} ${'━'.repeat(Math.max(0, 70 - text.length))}\n`);
}

function say(text: string): void {
  process.stdout.write(`[test] ${text}\n`);
}

function bin(name: string): string {
  const local = join(REPO_ROOT, 'node_modules', '.bin', name);
  return existsSync(local) ? local : name;
}

/** Runs a command with inherited stdio; resolves with its exit code. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit', env });
    child.on('error', (err) => {
      process.stderr.write(`[test] cannot run ${cmd}: ${err.message}\n`);
      res(127);
    });
    child.on('exit', (code, signal) => res(code ?? (signal !== null ? 128 : 1)));
  });
}

async function step(
  name: string,
  fn: () => Promise<{ ok: boolean; note?: string; skipped?: boolean }>,
): Promise<boolean> {
  banner(name);
  const t0 = Date.now();
  let outcome: { ok: boolean; note?: string; skipped?: boolean };
  try {
    outcome = await fn();
  } catch (err) {
    process.stderr.write(`[test] ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    outcome = { ok: false, note: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
  results.push({ name, ms: Date.now() - t0, ...outcome });
  return outcome.ok;
}

/** Test files under `dir` (recursive), relative to the repo, filtered by substrings. */
function findTests(dir: string, filters: string[]): string[] {
  const root = join(REPO_ROOT, dir);
  if (!existsSync(root)) return [];
  const files = (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => relative(REPO_ROOT, join(root, f)).split(sep).join('/'))
    .sort();
  if (filters.length === 0) return files;
  const wanted = filters.map((f) => relative(REPO_ROOT, resolve(f)).split(sep).join('/'));
  return files.filter((f) => filters.some((s) => f.includes(s)) || wanted.some((w) => f.startsWith(w)));
}

/** Sums node's TAP summary lines (`# pass N` …) of one run into the totals. */
function addCounts(tapFile: string): TestCounts | undefined {
  if (!existsSync(tapFile)) return undefined;
  const text = readFileSync(tapFile, 'utf8');
  const counts: TestCounts = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  let found = false;
  for (const key of Object.keys(counts) as (keyof TestCounts)[]) {
    const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text);
    if (m !== null) {
      counts[key] = Number(m[1]);
      totals[key] += counts[key];
      found = true;
    }
  }
  return found ? counts : undefined;
}

async function nodeTests(
  part: 'unit' | 'integration' | 'integration-librdkafka',
  files: string[],
  extraArgs: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ok: boolean; note?: string; skipped?: boolean }> {
  if (files.length === 0) {
    say(`no ${part} test files${filters.length > 0 ? ' match the filters' : ''}`);
    return { ok: true, skipped: true, note: 'no test files' };
  }
  mkdirSync(resultsDir, { recursive: true });
  const tap = join(resultsDir, `${part}.tap`);
  rmSync(tap, { force: true });
  say(`${files.length} file(s): ${files.join(' ')}`);
  const code = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      ...extraArgs,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    env,
  );
  const counts = addCounts(tap);
  const note =
    counts === undefined
      ? `exit ${code}, no summary`
      : `${counts.pass} passed, ${counts.fail + counts.cancelled} failed, ${counts.skipped + counts.todo} skipped`;
  return { ok: code === 0, note };
}

/**
 * The scorer's integration tests again on the second Kafka client (librdkafka, KAFKA_CLIENT=confluent),
 * when its optional package is built here (`.ci/run` builds it) and no client was chosen by hand.
 */
async function librdkafkaPass(files: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const scorerFiles = files.filter((f) => /integration[\\/]scorer/.test(f));
  if (scorerFiles.length === 0 || process.env.KAFKA_CLIENT !== undefined) return;
  await step('integration tests, librdkafka client', async () => {
    if (!confluentAvailable()) {
      const note = `skipped: ${CONFLUENT_PACKAGE} is not built here (npm run setup:librdkafka)`;
      say(note);
      return { ok: true, skipped: true, note };
    }
    return nodeTests(
      'integration-librdkafka',
      scorerFiles,
      ['--test-concurrency=1', '--test-timeout=300000'],
      {
        ...env,
        KAFKA_CLIENT: 'confluent',
      },
    );
  });
}

/** Integration test files that need the schema registry (it starts only when one of them runs). */
const NEEDS_SCHEMA_REGISTRY = ['schema-registry'];

// --- Redis ---------------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

let privateRedis: ChildProcess | undefined;

/** Stops the private redis-server (if any) and waits for it to exit. */
async function stopPrivateRedis(): Promise<void> {
  const child = privateRedis;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise<void>((res) => setTimeout(res, 5000))]);
}

/** REDIS_URL if it answers; else a private redis-server for this run (when installed). */
async function ensureRedis(env: NodeJS.ProcessEnv): Promise<{ ok: boolean; note: string }> {
  const url = redisUrlFromEnv(env);
  if (await pingRedis(url, 1500)) {
    say(`Redis answers at ${url}`);
    env.REDIS_URL = url;
    return { ok: true, note: `Redis at ${url}` };
  }
  const available = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!available) {
    return { ok: false, note: `nothing answers at ${url} and redis-server is not installed` };
  }
  const port = await freePort();
  const dir = join(REPO_ROOT, '.cache', 'redis-test');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  say(`nothing answers at ${url}: starting a private redis-server on 127.0.0.1:${port}`);
  privateRedis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const privateUrl = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (!(await pingRedis(privateUrl, 500))) {
    if (Date.now() > deadline || privateRedis.exitCode !== null) {
      return { ok: false, note: `the private redis-server on port ${port} did not answer` };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  env.REDIS_URL = privateUrl;
  return {
    ok: true,
    note: `private redis-server at ${privateUrl}${url === DEFAULT_REDIS_URL ? '' : ` (${url} did not answer)`}`,
  };
}

// --- main ----------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith('--')));
const filters = argv.filter((a) => !a.startsWith('--'));
const known = new Set(['--unit', '--integration', '--down', '--checks']);
for (const f of flags) {
  if (!known.has(f)) {
    process.stderr.write(
      `unknown flag ${f}; usage: tsx test/run.ts [--unit|--integration] [--checks] [--down] [filter…]\n`,
    );
    process.exit(2);
  }
}
const onlyUnit = flags.has('--unit') && !flags.has('--integration');
const onlyIntegration = flags.has('--integration') && !flags.has('--unit');
const runUnit = !onlyIntegration;
const runIntegration = !onlyUnit;
const runChecks =
  flags.has('--checks') || (!flags.has('--unit') && !flags.has('--integration') && filters.length === 0);

async function main(): Promise<number> {
  const started = Date.now();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: process.env.NODE_ENV ?? 'test',
    // Models are signed: a key pair for this run unless the environment names keys.
    ...runSigningEnv(process.env),
  };
  let broker: BrokerUpResult | undefined;
  let schemaRegistry: RegistryUpResult | undefined;

  if (runChecks) {
    await step('typecheck (tsc --noEmit)', async () => ({
      ok: (await run(bin('tsc'), ['--noEmit', '-p', '.'])) === 0,
    }));
    await step('lint (eslint . && prettier --check . && jscpd)', async () => {
      const codes = {
        eslint: await run(bin('eslint'), ['.']),
        prettier: await run(bin('prettier'), ['--check', '.']),
        jscpd: await run(bin('jscpd'), []),
      };
      return {
        ok: Object.values(codes).every((c) => c === 0),
        note: Object.entries(codes)
          .map(([name, c]) => `${name} ${c === 0 ? 'ok' : 'failed'}`)
          .join(', '),
      };
    });
  }

  if (runUnit) {
    await step('unit tests', () =>
      nodeTests('unit', findTests('test/unit', filters), ['--test-timeout=300000'], childEnv),
    );
  }

  if (runIntegration) {
    const files = findTests('test/integration', filters);
    if (files.length === 0) {
      await step('integration tests', () => nodeTests('integration', files, [], childEnv));
    } else {
      let infraOk = await step('infrastructure (Kafka, Redis)', async () => {
        const opts = localBrokerOptionsFromEnv(process.env, (line) => say(`kafka: ${line}`));
        broker = await ensureKafka(opts);
        childEnv.KAFKA_BROKERS = broker.brokers;
        const kafkaNote = `Kafka ${broker.outcome} at ${broker.brokers}, ready in ${(broker.readyMs / 1000).toFixed(1)} s`;
        say(kafkaNote);
        const redis = await ensureRedis(childEnv);
        if (!redis.ok) say(`redis: ${redis.note}`);
        return { ok: redis.ok, note: `${kafkaNote}; ${redis.note}` };
      });
      if (files.some((f) => NEEDS_SCHEMA_REGISTRY.some((n) => f.includes(n)))) {
        infraOk =
          (await step('schema registry (Apicurio)', async () => {
            schemaRegistry = await ensureRegistry(
              registryOptionsFromEnv(process.env, (line) => say(`registry: ${line}`)),
            );
            childEnv.SMAE_TEST_SCHEMA_REGISTRY_URL = schemaRegistry.url;
            const note = `registry ${schemaRegistry.outcome} at ${schemaRegistry.url}, ready in ${(schemaRegistry.readyMs / 1000).toFixed(1)} s${schemaRegistry.fetchMs ? ` (of which fetching ${(schemaRegistry.fetchMs / 1000).toFixed(1)} s)` : ''}`;
            say(note);
            return { ok: true, note };
          })) && infraOk;
      }
      if (broker === undefined) infraOk = false;
      if (infraOk || broker !== undefined) {
        // Without Redis the Kafka-only tests can still tell something; the step above already failed.
        await step('integration tests', () =>
          nodeTests('integration', files, ['--test-concurrency=1', '--test-timeout=300000'], childEnv),
        );
        await librdkafkaPass(files, childEnv);
      }
    }
  }

  await stopPrivateRedis();
  if (flags.has('--down') && schemaRegistry?.outcome === 'started') {
    const res = await stopRegistry(registryOptionsFromEnv(process.env));
    say(`registry: ${res.detail}`);
  }
  if (flags.has('--down') && broker?.outcome === 'started') {
    const res = await stopKafka(localBrokerOptionsFromEnv(process.env));
    say(`kafka: ${res.detail}`);
  }

  banner('summary');
  for (const r of results) {
    const status = r.skipped === true ? 'skip' : r.ok ? 'ok  ' : 'FAIL';
    process.stdout.write(
      `  ${status}  ${r.name.padEnd(40)} ${(r.ms / 1000).toFixed(1).padStart(6)} s${r.note !== undefined ? `  ${r.note}` : ''}\n`,
    );
  }
  const failedSteps = results.filter((r) => !r.ok);
  process.stdout.write(
    `  total ${((Date.now() - started) / 1000).toFixed(1)} s; ${failedSteps.length === 0 ? 'all steps passed' : `failed: ${failedSteps.map((r) => r.name).join(', ')}`}\n`,
  );
  // The closing line: both test runs together, in the plain form CI tools read.
  process.stdout.write(
    `tests: ${totals.pass} passed, ${totals.fail + totals.cancelled} failed, ${totals.skipped + totals.todo} skipped\n`,
  );
  return failedSteps.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[test] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void stopPrivateRedis().finally(() => process.exit(1));
  },
);
