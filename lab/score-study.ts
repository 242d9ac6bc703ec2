/**
 * Lab (not production): per-feature score terms and contamination rules compared on the same trained
 * ensembles. Per set and seed, the default profile's members are trained once; their residuals on the
 * held-out calibration rows and the test rows are then scored four ways, each member's score normalised
 * by its median and (p90 − median) on the calibration rows and averaged, as `EnsembleScorer` does:
 *
 * - `z2`: mean z² over features (the `robust-residual` score);
 * - `log`: mean log(1 + z²) (a Cauchy residual's negative log-likelihood: one feature far off adds a few units);
 * - `tail`: mean −log of each feature's empirical tail probability of |z| on the calibration rows
 *   (Fisher's combination; beyond the largest, an exponential tail fitted to the top tenth);
 * - `mean`, `zt`, `lt`: the average of two normalised scores (`z2` and `log`, `z2` and `tail`, `log` and
 *   `tail`). `zt` is what the default profile's `robust-tail` score became (its tail kept compactly:
 *   `shared/model/tail.ts`);
 * - `mse`: the mean squared residual in model units (the report's score); `ztm`: the average of `z2`,
 *   `tail` and `mse`.
 *
 * For each: ROC-AUC on the test rows, and the false-positive rate on the normal test rows of the conformal
 * policy fitted on the calibration scores with its own contamination rule (`own`), with the rows the `z2`
 * score's rule sets aside left out instead (`z2 rule`), with the rows either rule sets aside left out
 * (`both rules`), and on the normal calibration rows only (`clean`). `OUT=FILE` also appends each set's
 * figures to FILE as a JSON line; `MIN_CAL_ROWS=N` holds out at least N calibration rows (up to half the
 * training rows) instead of what the policy needs.
 *
 * `SEEDS=1,2,3 npx tsx lab/score-study.ts annthyroid,cardio` (from the repository root; data in
 * ../shared/data, or in SMAE_DATA_DIR).
 */
import { prepareLabelledSet } from './eval/experiment.js';
import { rocAuc } from './eval/metrics.js';
import { initBackend } from '../shared/model/index.js';
import { profileSettings } from '../shared/model/profile.js';
import { architectureFor } from '../shared/model/architecture.js';
import { columnLevels, residualsOf, residualSpreads, trainEnsemble } from '../shared/model/ensemble.js';
import { calibrationSplit, takeRows } from '../shared/threshold/holdout.js';
import { calibrationRowsFor, fitPolicy } from '../shared/threshold/policy.js';
import { withoutContamination } from '../shared/threshold/calibration.js';

type Term = (z: number, j: number) => number;
interface Scores {
  cal: Float64Array;
  test: Float64Array;
}

await initBackend({ prefer: 'cpu' });
const sets = process.argv[2]!.split(',');
const seeds = (process.env.SEEDS ?? '1,2,3').split(',').map(Number);
const profile = profileSettings('default');

/** Per-column −log tail probability of |z| among the calibration rows' |z|. */
function tailTerm(absZ: Float64Array[], n: number): Term {
  const tails = absZ.map((a) => {
    const s = Float64Array.from(a).sort();
    const i90 = Math.floor(0.9 * (n - 1));
    let excess = 0;
    for (let i = i90 + 1; i < n; i++) excess += s[i]! - s[i90]!;
    return { s, tau: Math.max(excess / Math.max(1, n - 1 - i90), 1e-9), max: s[n - 1]! };
  });
  return (z, j) => {
    const { s, tau, max } = tails[j]!;
    const v = Math.abs(z);
    if (v > max) return Math.log(n + 1) + (v - max) / tau;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return Math.log((n + 1) / (n - lo + 1));
  };
}

const stats = (a: number[]) => {
  const m = a.reduce((x, y) => x + y, 0) / a.length;
  const sd = Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / a.length);
  return `${m.toFixed(3)} ± ${sd.toFixed(3)} [${a.map((v) => v.toFixed(3)).join(' ')}]`;
};

for (const set of sets) {
  const prep = await prepareLabelledSet(set);
  const d = prep.width;
  const figures = new Map<string, number[]>();
  const put = (k: string, v: number) => figures.set(k, [...(figures.get(k) ?? []), v]);
  for (const seed of seeds) {
    const split = calibrationSplit(
      prep.trainRows,
      profile.calibrationFraction,
      seed,
      Number(process.env.MIN_CAL_ROWS ?? calibrationRowsFor(profile.threshold)),
    );
    const n = split.calibration.length;
    const cal = takeRows(prep.train, d, split.calibration);
    const normalCal = Array.from(split.calibration, (r) => prep.trainLabels![r] === 0);
    const { networks } = await trainEnsemble(
      architectureFor(d),
      takeRows(prep.train, d, split.fit),
      split.fit.length,
      profile,
      seed,
    );
    const levels = columnLevels(cal, n, d);
    const members = networks.map((net) => {
      const rc = residualsOf(net, cal, n);
      return { rc, rt: residualsOf(net, prep.test, prep.testRows), ...residualSpreads(rc, n, d, levels) };
    });
    const score = (termOf: (m: (typeof members)[number]) => Term): Scores => {
      const out = { cal: new Float64Array(n), test: new Float64Array(prep.testRows) };
      for (const m of members) {
        const term = termOf(m);
        const raw = (r: Float64Array, rows: number) =>
          Float64Array.from({ length: rows }, (_, i) => {
            let s = 0;
            for (let j = 0; j < d; j++) s += term((r[i * d + j]! - m.center[j]!) / m.spread[j]!, j);
            return s / d;
          });
        const c = raw(m.rc, n);
        const sorted = Float64Array.from(c).sort();
        const med = sorted[Math.floor(0.5 * (n - 1))]!;
        const scale = sorted[Math.floor(0.9 * (n - 1))]! - med;
        const t_ = raw(m.rt, prep.testRows);
        c.forEach((v, i) => (out.cal[i] += (v - med) / scale / members.length));
        t_.forEach((v, i) => (out.test[i] += (v - med) / scale / members.length));
      }
      return out;
    };
    const kinds: Record<string, Scores> = {
      z2: score(() => (z) => z * z),
      log: score(() => (z) => Math.log1p(z * z)),
      tail: score((m) =>
        tailTerm(
          Array.from({ length: d }, (_, j) =>
            Float64Array.from({ length: n }, (_, i) => (m.rc[i * d + j]! - m.center[j]!) / m.spread[j]!).map(
              Math.abs,
            ),
          ),
          n,
        ),
      ),
    };
    const average = (a: Scores, b: Scores): Scores => ({
      cal: a.cal.map((v, i) => (v + b.cal[i]!) / 2),
      test: a.test.map((v, i) => (v + b.test[i]!) / 2),
    });
    kinds.mean = average(kinds.z2!, kinds.log!);
    kinds.zt = average(kinds.z2!, kinds.tail!);
    kinds.lt = average(kinds.log!, kinds.tail!);
    // The residual's square in model units (the report's MSE, member-normalised like the others).
    kinds.mse = score((m) => (z, j) => (z * m.spread[j]! + m.center[j]!) ** 2);
    // zt is (z2 + tail) / 2, so this is the plain average of the three terms.
    kinds.ztm = {
      cal: kinds.zt.cal.map((v, i) => (2 * v + kinds.mse!.cal[i]!) / 3),
      test: kinds.zt.test.map((v, i) => (2 * v + kinds.mse!.test[i]!) / 3),
    };
    const z2Kept = new Set(withoutContamination(kinds.z2!.cal));
    const fpr = (s: Scores, keep: (i: number) => boolean, clean: boolean) => {
      const policy = fitPolicy(
        profile.threshold,
        Array.from(s.cal).filter((_, i) => keep(i)),
        'calibration',
        { clean },
      );
      let fp = 0;
      let normal = 0;
      s.test.forEach((v, i) => {
        if (prep.testLabels[i]) return;
        normal++;
        if (policy.classify(v).flagged) fp++;
      });
      return (100 * fp) / normal;
    };
    for (const [k, s] of Object.entries(kinds)) {
      put(`${k} ROC-AUC`, rocAuc(prep.testLabels, Float32Array.from(s.test))!);
      put(
        `${k} FPR % own`,
        fpr(s, () => true, false),
      );
      put(
        `${k} FPR % z2 rule`,
        fpr(s, (i) => z2Kept.has(kinds.z2!.cal[i]!), true),
      );
      const ownKept = new Set(withoutContamination(s.cal));
      put(
        `${k} FPR % both rules`,
        fpr(s, (i) => z2Kept.has(kinds.z2!.cal[i]!) && ownKept.has(s.cal[i]!), true),
      );
      put(
        `${k} FPR % clean`,
        fpr(s, (i) => normalCal[i]!, true),
      );
    }
    for (const net of networks) net.dispose();
  }
  for (const [k, v] of figures) console.log(`${set} ${k}: ${stats(v)}`);
  if (process.env.OUT) {
    const { appendFileSync } = await import('node:fs');
    appendFileSync(process.env.OUT, JSON.stringify({ set, figures: Object.fromEntries(figures) }) + '\n');
  }
}
