/**
 * A short `npm run demo` end to end against the real broker and Redis: it trains, starts the scorer and
 * the adapter as child processes, streams, and ends with a summary, a valid results.json and a report.
 * Also checks the pieces the live view reads (Prometheus text, the frame), which need no broker.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';
import { readRunResults } from '../../lab/report/results.js';
import { parsePrometheus, sumOf } from '../../lab/demo/prometheus.js';
import { renderLive, type LiveState } from '../../lab/demo/live.js';
import { partitionFor } from '../../lab/demo/stream.js';
import { uniqueName } from '../helpers/infra.js';

/** Runs the demo as a child process with `args` (plus pipeline, out, --json, --cleanup); fails on a non-zero exit. */
async function runDemo(
  t: TestContext,
  extra: string[],
): Promise<{ stdout: string; stderr: string; out: string; pipeline: string }> {
  const out = await mkdtemp(join(tmpdir(), 'smae-demo-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  const pipeline = uniqueName('demo');
  const args = [
    '--import',
    'tsx',
    join(REPO_ROOT, 'lab/demo/main.ts'),
    ...extra,
    '--pipeline',
    pipeline,
    '--out',
    out,
    '--json',
    '--cleanup',
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(
    code,
    0,
    `demo exit code ${code}\n--- stderr ---\n${stderr.slice(-4000)}\n--- stdout ---\n${stdout.slice(-2000)}`,
  );
  return { stdout, stderr, out, pipeline };
}

test('a short demo runs to its summary and writes results.json and the report', async (t) => {
  const { stdout, stderr, out, pipeline } = await runDemo(t, [
    '--records',
    '3000',
    '--train-records',
    '2000',
    '--epochs',
    '5',
    '--rate',
    '1500',
    '--adapt-every',
    '2s',
    '--windows',
    '10',
  ]);

  // Periodic JSON progress lines, then the summary line, then the printed summary.
  const jsonLines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; report?: string; results?: string });
  assert.ok(
    jsonLines.some((l) => l.event === 'progress'),
    'progress lines',
  );
  const summaryLine = jsonLines.find((l) => l.event === 'summary');
  assert.ok(summaryLine?.report && summaryLine.results, 'a summary line naming the results and the report');
  assert.match(stdout, /F1-macro/);
  assert.match(stdout, /^all +3000 /m);
  assert.match(stdout, /latency \(record produced → score visible, read_committed\): p50 \d+ ms/);
  assert.match(stdout, /^report: {2}\/.*report\.html$/m);
  // It ends saying whether it left Kafka running, and how to stop it when it is the local broker.
  assert.match(
    stderr,
    /\[demo\] Kafka (is still running at \S+: .*[Ss]top it with: .*npm run infra:down|at \S+ is the cluster KAFKA_BROKERS names)/,
  );

  const [runDir] = await readdir(out);
  const results = await readRunResults(join(out, runDir!, 'results.json'));
  assert.equal(results.run.pipeline, pipeline);
  assert.equal(results.counts.sent, 3000);
  assert.equal(results.counts.scored, 3000, 'every streamed record was scored');
  assert.equal(results.counts.unscored, 0);
  assert.equal(results.counts.duplicateFlags, 0, 'exactly-once: no flag twice');
  assert.equal(results.counts.deadLetters, 0);
  assert.deepEqual(Object.keys(results.metrics.perPhase).sort(), ['abrupt', 'gradual', 'stable']);
  // The injected anomalies multiply features by 6–30: even a 5-epoch model finds most of them.
  assert.ok(results.metrics.overall.recall > 0.8, `recall ${results.metrics.overall.recall}`);
  assert.ok(results.metrics.overall.rocAuc! > 0.9, `ROC-AUC ${results.metrics.overall.rocAuc}`);
  assert.equal(results.windows.length, 10);
  assert.ok(results.scores.bins.length > 0);
  assert.ok(results.modelVersions.length >= 1 && results.modelVersions[0]!.publishedBy === 'trainer');
  assert.ok(results.latencyMs.count === 3000 && results.latencyMs.p50! > 0);
  const html = await readFile(join(out, runDir!, 'report.html'), 'utf8');
  assert.equal((html.match(/<svg [^>]*class="chart"/g) ?? []).length, 6);
  // The child processes wrote their logs into the run directory and are gone.
  const files = await readdir(join(out, runDir!));
  assert.ok(files.includes('scorer.log') && files.includes('adapter.log'), files.join(', '));
  // A clean run logs no warn or error line (pino levels 40 and up): operators alert on them.
  for (const name of ['scorer.log', 'adapter.log']) {
    const loud = (await readFile(join(out, runDir!, name), 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .filter((l) => (JSON.parse(l) as { level?: number }).level! >= 40);
    assert.deepEqual(loud, [], `${name} has warn/error lines`);
  }
});

test('a labelled CSV file streams through the whole pipeline and is judged by its own labels', async (t) => {
  // 4,000 rows on a 2-factor plane, 5 % labelled anomalies off it, in random order: a real labelled file.
  const dir = await mkdtemp(join(tmpdir(), 'smae-demo-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let s = 17;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const lines = ['a,b,c,d,label'];
  for (let i = 0; i < 4000; i++) {
    const [x, y] = [u(), u()];
    const anomaly = u() < 0.05;
    const off = anomaly ? 3 + 3 * u() : 0;
    lines.push(
      [x + y + 0.02 * u(), x - y + off, 2 * x + 0.02 * u(), y + 0.02 * u(), anomaly ? 1 : 0]
        .map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(5) : String(v)))
        .join(','),
    );
  }
  const csv = join(dir, 'labelled.csv');
  await writeFile(csv, `${lines.join('\n')}\n`);

  const { stdout, out } = await runDemo(t, [
    '--data',
    csv,
    '--label-column',
    'label',
    '--train-share',
    '0.5',
    '--target-fpr',
    '0.05',
    '--epochs',
    '5',
    // 10 s of streaming: room for several 2 s adaptation cycles even on a loaded machine.
    '--rate',
    '200',
    '--adapt-every',
    '2s',
    '--windows',
    '5',
  ]);
  assert.match(
    stdout,
    /threshold of v1: conformal α=0\.05 over \d+ held-out calibration scores \(target FPR 5\.00%, measured \d/,
  );
  const [runDir] = await readdir(out);
  const results = await readRunResults(join(out, runDir!, 'results.json'));
  const labels = lines.slice(1).map((l) => Number(l.split(',')[4]));
  const streamed = labels.slice(2000);
  assert.equal(results.counts.scored, 2000);
  assert.equal(
    results.metrics.overall.anomalies,
    streamed.filter((v) => v === 1).length,
    'the file’s own labels',
  );
  assert.match(results.model.thresholdPolicy ?? '', /^conformal α=0\.05/);
  assert.equal(results.model.percentile, null);
  for (const k of ['precision', 'recall', 'fpr', 'f1Macro', 'rocAuc'] as const)
    assert.ok(Number.isFinite(results.metrics.overall[k]), k);
  assert.ok(results.metrics.overall.rocAuc! > 0.9, `ROC-AUC ${results.metrics.overall.rocAuc}`);
  // The adapter ran against the stream (published or refused, each with its reason).
  assert.ok(results.adaptations.length > 0, 'adaptation cycles');
});

test('the live view reads Prometheus text and draws one frame', () => {
  const samples = parsePrometheus(
    [
      '# HELP smae_scorer_consumer_lag lag',
      '# TYPE smae_scorer_consumer_lag gauge',
      'smae_scorer_consumer_lag{topic="p.records",partition="0"} 3',
      'smae_scorer_consumer_lag{topic="p.records",partition="1"} 4',
      'smae_scorer_model_version 2',
      'smae_adapter_refusals_total{pipeline="p",reason="threshold-step"} 1 1700000000000',
      'smae_x{a="q\\"uote"} NaN',
    ].join('\n'),
  );
  assert.equal(sumOf(samples, 'smae_scorer_consumer_lag'), 7);
  assert.equal(sumOf(samples, 'smae_scorer_consumer_lag', { partition: '1' }), 4);
  assert.equal(sumOf(samples, 'smae_adapter_refusals_total', { reason: 'threshold-step' }), 1);
  assert.equal(samples.find((s) => s.name === 'smae_x')!.labels.a, 'q"uote');
  const state: LiveState = {
    elapsedMs: 12_000,
    phase: 'abrupt',
    sent: 500,
    total: 1000,
    sentPerSecond: 400,
    scored: 480,
    scoredPerSecond: 398.2,
    flags: 31,
    flagsPerSecond: 2.5,
    deadLetters: 0,
    consumerLag: 7,
    modelVersion: 2,
    threshold: 0.1234,
    adaptationsPublished: 1,
    adaptationsRefused: 2,
    lastRefusal: 'threshold-step',
    f1Macro: 0.91,
    recall: 0.97,
    fpr: 0.012,
    latencyMs: { p50: 24.4, p99: 131.6 },
    scorerUp: true,
    adapterUp: true,
  };
  const lines = renderLive(state, 'p');
  assert.equal(lines.length, 7);
  assert.match(lines[3]!, /latency {5}p50 24 ms {3}p99 132 ms/);
  assert.match(renderLive({ ...state, latencyMs: null }, 'p')[3]!, /latency {5}–$/);
  assert.match(lines[1]!, /\[############\.{12}\] 500 \/ 1,000 {2}400\/s/);
  assert.match(
    lines[5]!,
    /v2 \(threshold 0\.123\) {3}adaptations 1 published, 2 refused \(last: threshold-step\)/,
  );
  assert.ok(lines.every((l) => !l.includes('\x1b')));
  // One key always lands on the same partition, and keys spread over all of them.
  assert.equal(partitionFor('ent-001', 3), partitionFor('ent-001', 3));
  const used = new Set(Array.from({ length: 50 }, (_, i) => partitionFor(`ent-${i}`, 3)));
  assert.equal(used.size, 3);
});
