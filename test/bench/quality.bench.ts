/**
 * `npm run bench:quality` — detection quality on real labels (a benchmark, not a test).
 *
 * For every labelled CSV in the data directory (a `label` column, 1 = anomaly): the report's split
 * (70/30, split seed 42), min-max scaling fitted on the training part, and for each of 3 seeds the
 * `report` and `default` profiles trained on the contaminated 70 % and evaluated on the 30 %: ROC-AUC,
 * average precision, and at the profile's threshold policy the false-positive rate on the normal test
 * rows, the anomaly recall and F1-macro — beside scikit-learn's IsolationForest (default settings,
 * `random_state` = seed) fitted on the same training rows in the same run. Prints mean ± std over seeds,
 * as one table; progress goes to stderr.
 *
 * IsolationForest needs Python 3 with scikit-learn (Debian: `apt-get install -y python3-sklearn`); without
 * it that column is skipped with a note. Options: `--seeds 1,2,3`, `--sets thyroid,cardio`,
 * `--profiles report,default`, `--split-seed 42` (another draw of the 70/30 split: the test rows are
 * shared by all seeds of a run, so their sampling noise does not average out over seeds), `--dump-scores DIR` (the scores behind the table, for offline study). Data directory: env SMAE_DATA_DIR, else ../shared/data.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  prepareLabelledSet,
  runTrial,
  type PreparedExperiment,
  type TrialResult,
} from '../../lab/eval/experiment.js';
import { calibrationSplit } from '../../shared/threshold/holdout.js';
import { binaryMetrics, meanStd, rocAuc } from '../../lab/eval/metrics.js';
import { averagePrecision } from '../../lab/eval/ranking.js';
import { initBackend } from '../../shared/model/index.js';
import { profileSettings, PROFILE_NAMES, type ProfileSettings } from '../../shared/model/profile.js';
import { calibrationRowsFor, fitPolicy } from '../../shared/threshold/policy.js';

const HERE = fileURLToPath(import.meta.url);
const REPO = resolve(dirname(HERE), '..', '..');
const DATA = process.env.SMAE_DATA_DIR ?? resolve(REPO, '..', 'shared', 'data');

interface Figures {
  auc: number;
  ap: number;
  fpr: number;
  /** FPR had the policy been fitted on the normal calibration rows only (labels known): a diagnostic. */
  cleanFpr: number;
  recall: number;
  f1: number;
  cpuSeconds: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function labelledSets(): string[] {
  if (!existsSync(DATA)) throw new Error(`no data directory ${DATA} (set SMAE_DATA_DIR)`);
  return readdirSync(DATA)
    .filter((f) => f.endsWith('.csv'))
    .filter((f) => {
      const head = readFileSync(join(DATA, f), 'utf8').slice(0, 4096).split('\n')[0]!.split(',');
      return head[head.length - 1]!.trim() === 'label' && !head.includes('timestamp');
    })
    .map((f) => basename(f, '.csv'))
    .sort();
}

function atThreshold(
  labels: Uint8Array,
  scores: ArrayLike<number>,
  flagged: Uint8Array,
): Omit<Figures, 'cpuSeconds' | 'cleanFpr'> {
  const m = binaryMetrics(labels, flagged);
  let fp = 0;
  let neg = 0;
  let tp = 0;
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]) {
      pos++;
      if (flagged[i]) tp++;
    } else {
      neg++;
      if (flagged[i]) fp++;
    }
  }
  return {
    auc: rocAuc(labels, scores) ?? Number.NaN,
    ap: averagePrecision(labels, scores),
    fpr: neg > 0 ? fp / neg : Number.NaN,
    recall: pos > 0 ? tp / pos : Number.NaN,
    f1: m.f1Macro,
  };
}

/** The first Python 3 that imports scikit-learn, or null. */
function findSklearnPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3', 'python']) {
    const r = spawnSync(py, ['-c', 'import sklearn'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

function isolationForest(py: string, prep: PreparedExperiment, seeds: number[]): Float64Array[] {
  const rowsOf = (m: Float32Array, n: number): number[][] =>
    Array.from({ length: n }, (_, i) => Array.from(m.subarray(i * prep.width, (i + 1) * prep.width)));
  const job = JSON.stringify({
    train: rowsOf(prep.train, prep.trainRows),
    test: rowsOf(prep.test, prep.testRows),
    seeds,
  });
  const r = spawnSync(py, [join(dirname(HERE), 'iforest.py')], { input: job, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`IsolationForest failed: ${r.stderr.toString()}`);
  const out = JSON.parse(r.stdout.toString()) as { scores: number[][] };
  return out.scores.map((s) => Float64Array.from(s));
}

/** The calibration rows the trial held out (`runTrial` splits the same way). */
function heldOutRows(prep: PreparedExperiment, profile: ProfileSettings, seed: number): Int32Array {
  const min = calibrationRowsFor(profile.threshold);
  return calibrationSplit(prep.trainRows, profile.calibrationFraction, seed, min).calibration;
}

/**
 * The false-positive rate on the normal test rows had the policy been fitted on the calibration rows'
 * normal part only (their labels are known here, never to the product): what a perfect contamination
 * guard would give, so the table separates what contamination costs from what sampling does.
 */
function cleanCalibrationFpr(
  prep: PreparedExperiment,
  profile: ProfileSettings,
  seed: number,
  r: TrialResult,
): number {
  if (prep.trainLabels === null || r.calibrationScores === undefined) return Number.NaN;
  const held = heldOutRows(prep, profile, seed);
  const clean = Array.from(held, (row, i) =>
    prep.trainLabels![row] === 0 ? r.calibrationScores![i]! : null,
  );
  const policy = fitPolicy(
    profile.threshold,
    clean.filter((v): v is number => v !== null),
    'calibration',
    { clean: true },
  );
  let fp = 0;
  let neg = 0;
  r.testScores!.forEach((v, i) => {
    if (prep.testLabels[i]) return;
    neg++;
    if (policy.classify(v).flagged) fp++;
  });
  return neg > 0 ? fp / neg : Number.NaN;
}

/**
 * `--dump-scores DIR`: one JSON file per set and seed with the calibration scores (and those rows' labels,
 * which the product never sees) and the test scores with their labels, so threshold policies can be
 * compared offline on exactly what this run scored.
 */
function dumpScores(
  dir: string,
  set: string,
  seed: number,
  prep: PreparedExperiment,
  profile: ProfileSettings,
  r: TrialResult,
): void {
  const held = heldOutRows(prep, profile, seed);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${set}-${profile.name}-${seed}.json`),
    JSON.stringify({
      set,
      seed,
      profile: profile.name,
      calibration: Array.from(r.calibrationScores ?? []),
      calibrationLabels: prep.trainLabels === null ? null : Array.from(held, (row) => prep.trainLabels![row]),
      test: Array.from(r.testScores ?? []),
      testLabels: Array.from(prep.testLabels),
    }),
  );
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function fmt(values: number[], digits = 3): string {
  const { mean, std } = meanStd(values);
  return Number.isFinite(mean) ? `${mean.toFixed(digits)} ± ${std.toFixed(digits)}` : 'n/a';
}

async function main(): Promise<void> {
  const seeds = arg('seeds', '1,2,3').split(',').map(Number);
  const sets = arg('sets', '') ? arg('sets', '').split(',') : labelledSets();
  const profiles = arg('profiles', PROFILE_NAMES.join(',')).split(',').reverse();
  const dump = arg('dump-scores', '');
  const splitSeed = Number(arg('split-seed', '42'));
  const backend = await initBackend({ prefer: 'cpu' });
  const py = findSklearnPython();
  if (py === null) {
    process.stderr.write(
      'IsolationForest column skipped: no Python 3 with scikit-learn (Debian: apt-get install -y python3-sklearn)\n',
    );
  }
  const results: Record<string, Record<string, Figures[]>> = {};
  const started = Date.now();
  for (const set of sets) {
    const prep = await prepareLabelledSet(set, { dir: DATA, splitSeed });
    results[set] = {};
    const normalTest = Array.from(prep.testLabels).filter((l) => l === 0).length;
    process.stderr.write(
      `${set}: ${prep.trainRows} training rows, ${prep.testRows} test rows (${prep.testRows - normalTest} anomalies), ${prep.width} columns\n`,
    );
    if (py !== null) {
      const c0 = cpuNow();
      const t0 = Date.now();
      const scores = isolationForest(py, prep, seeds);
      results[set]!.iforest = scores.map((s) => {
        // IsolationForest's own threshold (contamination 'auto': score_samples < −0.5 is an outlier).
        const flagged = Uint8Array.from(s, (v) => (v > 0.5 ? 1 : 0));
        return { ...atThreshold(prep.testLabels, s, flagged), cleanFpr: Number.NaN, cpuSeconds: Number.NaN };
      });
      process.stderr.write(
        `  iforest   ${seeds.length} seeds in ${((Date.now() - t0) / 1000).toFixed(1)} s (python; ${(cpuNow() - c0).toFixed(1)} s node cpu)\n`,
      );
    }
    for (const name of profiles) {
      const profile = profileSettings(name);
      results[set]![name] = [];
      for (const seed of seeds) {
        const c0 = cpuNow();
        const t0 = Date.now();
        // The report's eval adapts on 10 test rows; the bench measures the profiles as trained.
        const r = await runTrial(prep, { seed, profile, adapt: false });
        const flagged = Uint8Array.from(r.testScores!, (v) =>
          name === 'report' ? (v > r.threshold ? 1 : 0) : 0,
        );
        if (name !== 'report') {
          const policy = fitPolicy(profile.threshold, r.calibrationScores!, 'calibration');
          r.testScores!.forEach((v, i) => (flagged[i] = policy.classify(v).flagged ? 1 : 0));
        }
        const f = {
          ...atThreshold(prep.testLabels, r.testScores!, flagged),
          cleanFpr: name === 'report' ? Number.NaN : cleanCalibrationFpr(prep, profile, seed, r),
          cpuSeconds: cpuNow() - c0,
        };
        results[set]![name]!.push(f);
        if (dump !== '' && name !== 'report') dumpScores(dump, set, seed, prep, profile, r);
        process.stderr.write(
          `  ${name.padEnd(9)} seed ${seed}: ROC-AUC ${f.auc.toFixed(4)}, AP ${f.ap.toFixed(4)}, FPR ${f.fpr.toFixed(4)} ` +
            `(clean calibration ${f.cleanFpr.toFixed(4)}), ` +
            `${((Date.now() - t0) / 1000).toFixed(1)} s wall, ${f.cpuSeconds.toFixed(1)} s cpu ` +
            `[${((Date.now() - started) / 1000).toFixed(0)} s elapsed]\n`,
        );
      }
    }
  }

  const cols = ['iforest', ...profiles.slice().reverse()].filter((c) =>
    Object.values(results).some((r) => r[c]),
  );
  const lines: string[] = [];
  lines.push(
    `bench:quality — ${seeds.length} seeds (${seeds.join(', ')}), split seed ${splitSeed} (70/30), min-max scaling, backend ${backend}; ` +
      `threshold: report = p95 of training MSE, default = ${JSON.stringify(profileSettings('default').threshold)} on held-out calibration rows, iforest = its own (score_samples < −0.5)`,
  );
  lines.push('');
  lines.push(
    '| data set | detector | ROC-AUC | average precision | FPR at threshold | FPR, clean calibration | recall at threshold | F1-macro at threshold | train cpu s |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const meanAuc: Record<string, number[]> = {};
  for (const set of sets) {
    for (const c of cols) {
      const fs = results[set]?.[c];
      if (!fs) continue;
      (meanAuc[c] ??= []).push(meanStd(fs.map((f) => f.auc)).mean);
      lines.push(
        `| ${set} | ${c} | ${fmt(fs.map((f) => f.auc))} | ${fmt(fs.map((f) => f.ap))} | ${fmt(fs.map((f) => f.fpr))} | ` +
          `${c === 'default' ? fmt(fs.map((f) => f.cleanFpr)) : '-'} | ` +
          `${fmt(fs.map((f) => f.recall))} | ${fmt(fs.map((f) => f.f1))} | ${
            c === 'iforest'
              ? '-'
              : fmt(
                  fs.map((f) => f.cpuSeconds),
                  1,
                )
          } |`,
      );
    }
  }
  lines.push('');
  lines.push(
    `| mean ROC-AUC over ${sets.length} sets | ${cols.map((c) => `${c} ${meanStd(meanAuc[c] ?? []).mean.toFixed(4)}`).join(' | ')} |`,
  );
  if (results[sets[0]!]?.iforest && cols.includes('default')) {
    const within = sets.filter((s) => {
      const d = meanStd(results[s]!.default!.map((f) => f.auc)).mean;
      const i = meanStd(results[s]!.iforest!.map((f) => f.auc)).mean;
      return d >= i - 0.01;
    });
    const maxStd = Math.max(...sets.map((s) => meanStd(results[s]!.default!.map((f) => f.auc)).std));
    lines.push(
      `| default vs IsolationForest | ROC-AUC ≥ IF − 0.01 on ${within.length} of ${sets.length} sets (${within.join(', ')}); largest seed std ${maxStd.toFixed(4)} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:quality failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
