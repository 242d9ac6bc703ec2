/**
 * `npm run bench:model` — the model's speed and memory per TensorFlow.js backend (a benchmark, not a test).
 *
 * For each backend that loads (cpu, wasm, and tensorflow when @tensorflow/tfjs-node is installed), in a
 * child process of its own (backends are process-global, and peak memory should be per backend):
 * - training seconds per epoch on the report's 40,650-row table (first 40,650 rows of
 *   shuttle_uci58k.csv, min-max scaled; a synthetic 9-column table if the file is missing);
 * - scoring rows per second in batches of 1, 32, 512 and 8,192: the network alone (per-row MSE) and the
 *   detector's full path (records → prepared matrix → scores with explanations of flagged rows);
 * - peak RSS and peak `tf.memory().numBytes`.
 *
 * - the training cost of the profiles: a `default` model against the report's single network, CPU
 *   seconds on the same rows in the same run, and their ratio (the budget is 4×); and each profile's
 *   scoring cost, µs per record through the detector in batches of 20 and 500.
 *
 * Options: `--epochs N` (3), `--backends cpu,wasm,tensorflow`, `--seconds S` per scoring measurement (1.5),
 * `--no-profiles` (skip the profile cost), `--only-profiles` (only the profile cost).
 * Data directory: env SMAE_DATA_DIR, else ../shared/data relative to the repository root.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
const REPO = resolve(dirname(HERE), '..', '..');
const ROWS = 40_650;
const BATCHES = [1, 32, 512, 8192] as const;
const ALL_BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;

interface ChildResult {
  backend: string;
  data: string;
  rows: number;
  columns: number;
  epochSeconds: number[];
  /** CPU seconds (user + system) of the process per epoch: less sensitive to a busy machine than wall time. */
  epochCpuSeconds: number[];
  finalLoss: number;
  /** Rows per wall-clock second and per CPU second, by batch size. */
  scoreNetwork: Record<string, Rate>;
  scoreDetector: Record<string, Rate>;
  peakRssMiB: number;
  peakTfMiB: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

interface Rate {
  wall: number;
  cpu: number;
}

interface Args {
  child: string | null;
  epochs: number;
  backends: string[];
  seconds: number;
  /** Measure the training cost of the profiles (report vs default) on the cpu backend (true). */
  profiles: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { child: null, epochs: 3, backends: [...ALL_BACKENDS], seconds: 1.5, profiles: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--child') args.child = next();
    else if (a === '--epochs') args.epochs = Number(next());
    else if (a === '--backends')
      args.backends = next()
        .split(',')
        .map((s) => s.trim());
    else if (a === '--seconds') args.seconds = Number(next());
    else if (a === '--no-profiles') args.profiles = false;
    else if (a === '--only-profiles') args.backends = [];
    else throw new Error(`unknown option ${a}`);
  }
  if (!(Number.isInteger(args.epochs) && args.epochs >= 1))
    throw new Error('--epochs must be a positive integer');
  if (!(args.seconds > 0)) throw new Error('--seconds must be positive');
  return args;
}

// --- child: one backend ---------------------------------------------------------------------------------

function loadTable(): { rows: Record<string, string | number>[]; source: string } {
  const dir = process.env.SMAE_DATA_DIR ?? resolve(REPO, '..', 'shared', 'data');
  const file = join(dir, 'shuttle_uci58k.csv');
  if (existsSync(file)) {
    const lines = readFileSync(file, 'utf8').split(/\r?\n/);
    const header = lines[0]!.split(',');
    const rows: Record<string, string>[] = [];
    for (let i = 1; i < lines.length && rows.length < ROWS; i++) {
      if (lines[i]!.trim() === '') continue;
      const cells = lines[i]!.split(',');
      rows.push(Object.fromEntries(header.map((h, j) => [h, cells[j]!])));
    }
    return { rows, source: `${file} (first ${rows.length} rows)` };
  }
  // A synthetic stand-in: 9 columns on a 3-factor manifold, seeded.
  let s = 12345;
  const rand = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const rows = Array.from({ length: ROWS }, () => {
    const f = [rand(), rand(), rand()];
    return Object.fromEntries(
      Array.from({ length: 9 }, (_, j) => [`x${j + 1}`, 100 * (f[j % 3]! * (1 + j / 9) + 0.05 * rand())]),
    );
  });
  return { rows, source: `synthetic 9-column table (${file} not found)` };
}

async function runChild(backendName: string, args: Args): Promise<void> {
  const { initBackend, trainDetector } = await import('../../shared/model/index.js');
  const { tf } = await import('../../shared/model/tf.js');
  const say = (msg: string): void => void process.stderr.write(`  [${backendName}] ${msg}\n`);
  let peakTf = 0;
  const sampleTf = (): void => {
    peakTf = Math.max(peakTf, tf.memory().numBytes);
  };

  const backend = await initBackend({ prefer: backendName as 'cpu' | 'wasm' | 'tensorflow' });
  const { rows, source } = loadTable();
  say(`${source}; training ${args.epochs} epochs`);
  const tensorsBefore = tf.memory().numTensors;
  const epochSeconds: number[] = [];
  const epochCpuSeconds: number[] = [];
  let cpuMark = process.cpuUsage();
  const detector = await trainDetector(
    rows,
    { source, infer: { scaler: 'minmax' }, fit: { epochs: args.epochs, seed: 1 } },
    (e) => {
      sampleTf();
      const used = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      epochSeconds.push(e.seconds);
      epochCpuSeconds.push((used.user + used.system) / 1e6);
      say(
        `epoch ${e.epoch}/${e.epochs}: ${e.seconds.toFixed(2)} s wall, ${epochCpuSeconds.at(-1)!.toFixed(2)} s cpu, loss ${e.loss.toFixed(5)}`,
      );
    },
  );
  sampleTf();

  const sample = rows.slice(0, 8192);
  const prepared = detector.prepare(sample);
  const d = detector.preprocessor.width;
  const measure = (batch: number, fn: (start: number) => void): Rate => {
    const starts = Math.floor(sample.length / batch);
    for (let w = 0; w < Math.min(3, starts); w++) fn((w % starts) * batch); // warm-up
    let rowsDone = 0;
    let i = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const budget = args.seconds * 1000;
    while (performance.now() - t0 < budget || i < 3) {
      fn((i % starts) * batch);
      rowsDone += batch;
      i++;
      if (i % 64 === 0) sampleTf();
    }
    sampleTf();
    const c = process.cpuUsage(c0);
    return {
      wall: rowsDone / ((performance.now() - t0) / 1000),
      cpu: rowsDone / ((c.user + c.system) / 1e6),
    };
  };
  const scoreNetwork: Record<string, Rate> = {};
  const scoreDetector: Record<string, Rate> = {};
  for (const b of BATCHES) {
    scoreNetwork[b] = measure(b, (start) => {
      detector.network.reconstructionErrors(prepared.matrix.subarray(start * d, (start + b) * d), b);
    });
    scoreDetector[b] = measure(b, (start) => {
      const p = detector.prepare(sample.slice(start, start + b));
      detector.scoreMatrix(p.matrix, p.rows);
    });
    say(
      `batch ${b}: network ${Math.round(scoreNetwork[b]!.wall)} rows/s, detector ${Math.round(scoreDetector[b]!.wall)} rows/s`,
    );
  }
  const finalLoss = detector.manifest.training.finalLoss;
  detector.dispose();
  const result: ChildResult = {
    backend,
    data: source,
    rows: rows.length,
    columns: d,
    epochSeconds,
    epochCpuSeconds,
    finalLoss,
    scoreNetwork,
    scoreDetector,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    peakTfMiB: peakTf / 2 ** 20,
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
  };
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

// --- parent: one child per backend, then the table ----------------------------------------------------------

function runBackend(backend: string, args: Args): Promise<ChildResult | { backend: string; error: string }> {
  return new Promise((resolveResult) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        HERE,
        '--child',
        backend,
        '--epochs',
        String(args.epochs),
        '--seconds',
        String(args.seconds),
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      process.stderr.write(b);
    });
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (line) return resolveResult(JSON.parse(line.slice('BENCH_RESULT '.length)) as ChildResult);
      const reason =
        err.match(/BACKEND_UNAVAILABLE[^\n]*/)?.[0] ?? err.trim().split('\n').pop() ?? `exit ${code}`;
      resolveResult({ backend, error: reason });
    });
  });
}

function fmtRate(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : v.toFixed(0);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function runParent(args: Args): Promise<void> {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(
    `model benchmark — node ${process.version}, ${cpus().length} × ${cpu}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `training: ${args.epochs} epochs of batch 32 on ${ROWS} rows; scoring: ${args.seconds} s per figure\n`,
  );
  const results: ChildResult[] = [];
  const failed: { backend: string; error: string }[] = [];
  for (const backend of args.backends) {
    process.stderr.write(`backend ${backend}: starting a child process\n`);
    const r = await runBackend(backend, args);
    if ('error' in r) {
      failed.push(r);
      process.stderr.write(`backend ${backend}: not available (${r.error})\n`);
    } else {
      results.push(r);
    }
  }
  if (args.profiles) await profileCost();
  if (results.length === 0) {
    if (args.backends.length > 0) {
      console.log('no backend loaded');
      process.exitCode = 1;
    }
    return;
  }
  const first = results[0]!;
  console.log(`\ndata: ${first.data}, ${first.rows} rows × ${first.columns} model columns\n`);
  const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  const later = (a: number[]): number => mean(a.length > 1 ? a.slice(1) : a);
  const steady = (r: ChildResult): number => later(r.epochSeconds);
  const steps = (r: ChildResult): number => Math.ceil(r.rows / 32);
  console.log('training (epoch 1 includes warm-up; "later" = mean of the other epochs)');
  console.log(
    table(
      [
        'backend',
        'epoch 1 s',
        'later s (wall)',
        'later s (cpu)',
        'ms/step (wall)',
        'final loss',
        'peak RSS MiB',
        'peak tf MiB',
        'tensors',
      ],
      results.map((r) => [
        r.backend,
        r.epochSeconds[0]!.toFixed(2),
        steady(r).toFixed(2),
        later(r.epochCpuSeconds).toFixed(2),
        ((steady(r) * 1000) / steps(r)).toFixed(3),
        r.finalLoss.toFixed(5),
        r.peakRssMiB.toFixed(0),
        r.peakTfMiB.toFixed(1),
        `${r.tensorsBefore}→${r.tensorsAfter}`,
      ]),
    ),
  );
  for (const [title, key] of [
    ['scoring, network only (per-row MSE): rows/s wall (rows per cpu-second)', 'scoreNetwork'],
    [
      'scoring, detector (records → prepared → scores + explanations): rows/s wall (per cpu-second)',
      'scoreDetector',
    ],
  ] as const) {
    console.log(`\n${title}`);
    console.log(
      table(
        ['backend', ...BATCHES.map((b) => `batch ${b}`)],
        results.map((r) => [
          r.backend,
          ...BATCHES.map((b) => `${fmtRate(r[key][b]!.wall)} (${fmtRate(r[key][b]!.cpu)})`),
        ]),
      ),
    );
  }
  const base = results.find((r) => r.backend === 'cpu');
  if (base && results.length > 1) {
    console.log('\nratios against cpu, wall clock (>1 = faster than cpu; memory: >1 = more than cpu)');
    console.log(
      table(
        ['backend', 'epoch speed', ...BATCHES.map((b) => `detector ${b}`), 'peak RSS'],
        results.map((r) => [
          r.backend,
          `${(steady(base) / steady(r)).toFixed(2)}×`,
          ...BATCHES.map((b) => `${(r.scoreDetector[b]!.wall / base.scoreDetector[b]!.wall).toFixed(2)}×`),
          `${(r.peakRssMiB / base.peakRssMiB).toFixed(2)}×`,
        ]),
      ),
    );
  }
  for (const f of failed) console.log(`\n${f.backend}: not measured — ${f.error}`);
  console.log(`\nthe report's Keras run: about 3 s per epoch (1,271 steps, ~2 ms/step)`);
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${cpus().length} cores)`,
  );
}

/**
 * The training cost of a `default` model against the report's single network, in CPU seconds of this
 * process, on the same 40,650 rows in the same run (cpu backend): the budget is 4×.
 */
/** Batch sizes of the profiles' scoring figure: the demo's (20 records at 400/s) and a backlog's. */
const SCORE_BATCHES = [20, 500] as const;

/** Wall µs per record of the detector's whole path (records → matrix → scores, explanations of flags). */
function scoringMicroseconds(
  detector: { scoreBatch(records: readonly Record<string, unknown>[]): unknown[] },
  rows: readonly Record<string, unknown>[],
  batch: number,
): number {
  const batches = Array.from({ length: 8 }, (_, b) => rows.slice(b * batch, (b + 1) * batch));
  for (const b of batches) detector.scoreBatch(b); // warm-up
  let records = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) for (const b of batches) records += detector.scoreBatch(b).length;
  return ((performance.now() - t0) * 1000) / records;
}

async function profileCost(): Promise<void> {
  const { initBackend, trainDetector } = await import('../../shared/model/index.js');
  const { profileSettings } = await import('../../shared/model/profile.js');
  await initBackend({ prefer: 'cpu' });
  const { rows, source } = loadTable();
  const figures: Record<string, { cpu: number; wall: number; scoreUs: number[] }> = {};
  for (const name of ['report', 'default'] as const) {
    process.stderr.write(`profile ${name}: training on ${rows.length} rows (cpu backend)\n`);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const detector = await trainDetector(
      rows,
      { source, infer: { scaler: 'minmax' }, fit: { seed: 1 }, profile: profileSettings(name) },
      (e) => {
        if (e.epoch % 5 === 0) process.stderr.write(`  ${name}: epoch ${e.epoch}/${e.epochs}\n`);
      },
    );
    const c = process.cpuUsage(c0);
    const scoreUs = SCORE_BATCHES.map((n) => scoringMicroseconds(detector, rows, n));
    figures[name] = { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1000, scoreUs };
    detector.dispose();
  }
  const r = figures.report!;
  const d = figures.default!;
  console.log(`\ntraining cost by profile on ${rows.length} rows (${source}), cpu backend, same run`);
  console.log(
    table(
      ['profile', 'cpu s', 'wall s', ...SCORE_BATCHES.map((n) => `scoring µs/record, batches of ${n}`)],
      [
        [
          'report (1 network, 30 epochs)',
          r.cpu.toFixed(1),
          r.wall.toFixed(1),
          ...r.scoreUs.map((v) => v.toFixed(1)),
        ],
        ['default (ensemble)', d.cpu.toFixed(1), d.wall.toFixed(1), ...d.scoreUs.map((v) => v.toFixed(1))],
      ],
    ),
  );
  console.log(`default / report CPU seconds: ${(d.cpu / r.cpu).toFixed(2)}× (budget 4×)`);
}

const args = parseArgs(process.argv.slice(2));
if (args.child !== null) {
  await runChild(args.child, args).catch((err: unknown) => {
    process.stderr.write(`${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
} else {
  await runParent(args);
}
