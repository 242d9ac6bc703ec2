/**
 * The README's "Your own data" section, followed as written: the commands are read from the README's
 * block marked `own-data-commands` (so the section cannot rot) and run with bash from the repository root
 * on a CSV this test generates (not a data set of ../shared/data), against the real Kafka and Redis.
 *
 * The only changes made to the lines: the README's names are pointed at this test's own places — the file
 * `readings.csv` and the directory `readings` into a temporary directory, the pipeline `readings` to a
 * unique name (cleaned up afterwards) — and the background scorer gets `SMAE_METRICS_PORT=0` in its
 * environment (a variable set in the environment wins over the settings file), since other processes on
 * a test machine may hold the default port.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup, uniquePipeline } from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = join(import.meta.dirname, '../..');

/** The commands of the README block that follows the `own-data-commands` marker. */
export function readmeCommands(readme: string): string[] {
  const at = readme.indexOf('<!-- own-data-commands');
  assert.ok(at >= 0, 'README has no own-data-commands block');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, 'no ```sh block after the own-data-commands marker');
  return block[1]!
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** A sensor-like CSV: an id, an ISO time, a category, four measures, free text, a 0/1 label with 3 % anomalies. */
function generateCsv(rows: number): string {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const lines = ['meter_id,read_at,zone,load_kw,voltage,temp_c,hum_pct,remark,label'];
  const start = Date.UTC(2026, 0, 5);
  for (let i = 0; i < rows; i++) {
    const anomaly = rand() < 0.03;
    const zone = ['a', 'b', 'c', 'd'][Math.floor(rand() * 4)]!;
    const load = 40 + 5 * gauss() + (anomaly ? 45 : 0);
    const volt = 230 + 2 * gauss() - (anomaly ? 25 : 0);
    const temp = 21 + gauss();
    const hum = 45 + 4 * gauss();
    lines.push(
      [
        `m-${1 + Math.floor(rand() * 25)}`,
        new Date(start + i * 30_000).toISOString(),
        zone,
        load.toFixed(3),
        volt.toFixed(2),
        temp.toFixed(2),
        hum.toFixed(1),
        `note ${i}`,
        anomaly ? 1 : 0,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bash(command: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A command that the README runs with `&`: its own process group, stopped with SIGTERM at the end. */
function background(command: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('bash', ['-c', `exec ${command}`], { cwd: ROOT, env, stdio: 'ignore', detached: true });
}

describe('README: your own data', () => {
  test('the five commands go from a CSV to flags on a topic', async (t) => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const commands = readmeCommands(readme);
    assert.ok(commands.length <= 5, `the section promises at most five commands, it has ${commands.length}`);

    const dir = await mkdtemp(join(tmpdir(), 'smae-own-'));
    onCleanup(t, () => rm(dir, { recursive: true, force: true }));
    const { name: pipeline } = uniquePipeline(t, 'own');
    await writeFile(join(dir, 'readings.csv'), generateCsv(800));
    const ours = (line: string) =>
      line
        .replace(/(^|[\s=])readings\.csv\b/g, `$1${dir}/readings.csv`)
        .replace(/(^|[\s=])readings\//g, `$1${dir}/readings/`)
        .replace(/--out readings\b/g, `--out ${dir}/readings`)
        .replace(/--pipeline readings\b/g, `--pipeline ${pipeline}`);
    // As a user's shell: no signing settings of the test run, so the keys smae init made must be used.
    const env: NodeJS.ProcessEnv = { ...process.env, SMAE_METRICS_PORT: '0' };
    for (const k of [
      'SMAE_SIGNING_KEY_FILE',
      'SMAE_SIGNING_KEY',
      'SMAE_TRUSTED_KEYS',
      'SMAE_ALLOW_UNSIGNED_MODELS',
    ])
      delete env[k];

    const outputs: Run[] = [];
    const children: ChildProcess[] = [];
    onCleanup(t, async () => {
      for (const c of children) {
        if (c.exitCode !== null || c.pid === undefined) continue;
        const exited = new Promise((r) => c.once('exit', r));
        process.kill(-c.pid, 'SIGTERM');
        await exited;
      }
    });
    for (const line of commands) {
      const command = ours(line);
      assert.ok(
        !/\breadings\b/.test(command.replaceAll(`${dir}/readings`, '')),
        `a README name left in: ${command}`,
      );
      if (command.endsWith('&')) {
        const child = background(command.slice(0, -1).trim(), env);
        children.push(child);
        continue;
      }
      const run = await bash(command, env);
      assert.equal(run.code, 0, `${line}\nexited ${run.code}:\n${run.stderr}\n${run.stdout}`);
      outputs.push(run);
    }

    // init: what it decided, the files, and the next commands it prints are the README's.
    const init = outputs[0]!.stdout;
    assert.match(init, /numeric\s+load_kw, voltage, temp_c, hum_pct/);
    assert.match(init, /categorical\s+zone/);
    assert.match(init, /key\s+meter_id/);
    assert.match(init, /event time\s+read_at \(iso-8601\)/);
    assert.match(init, /label: the label column/);
    assert.match(init, /remark: text with 800 distinct values/);
    for (const line of commands.slice(1))
      assert.ok(init.includes(ours(line)), `init does not print: ${line}`);

    // produce, then flags: the scorer read the records and flagged some of them.
    assert.match(outputs[2]!.stdout, /^produced 800 records to \S+\.records \(25 distinct keys\)/);
    const flags = outputs[3]!.stdout.trim().split('\n').filter(Boolean);
    assert.equal(flags.length, 10, outputs[3]!.stderr);
    for (const f of flags) assert.match(f, /^2026-01-05T\S+ key=m-\d+ score=\S+ > \S+ v1 {2}\w+=/);

    // The scorer is alive and consuming until stopped.
    await waitFor(
      async () => (await readFile(join(dir, 'readings/scorer.log'), 'utf8')).includes('"consuming"'),
      {
        timeoutMs: 10_000,
        message: 'scorer log says consuming',
      },
    );
  });
});
