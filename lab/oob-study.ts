/**
 * Lab (not production): would out-of-bag scores make the conformal threshold steadier? Each member of the
 * default profile trains on half the fitting rows, so every fitting row is unseen by about half the
 * members; averaged over those, its score could join the held-out calibration rows' (four to five times
 * as many). For each labelled set and seed: the false-positive rate on the normal test rows at α = 0.01
 * with the threshold fitted on the calibration rows (production), on the out-of-bag scores, on both, and
 * on both without their anomalies (labels the product never has); and, to check exchangeability, the rate
 * at the "both" threshold of a score averaged over half the members (1, 3, 5, 7) on the test rows.
 *
 *   npx tsx lab/oob-study.ts [set,set,…] [--seeds 1,2,3] [--split-seed 42]
 */
import { parseArgs } from 'node:util';
import {
  calibrate,
  EnsembleScorer,
  memberSeedOf,
  memberSubsample,
  trainEnsemble,
} from '../shared/model/ensemble.js';
import { architectureFor } from '../shared/model/architecture.js';
import { initBackend } from '../shared/model/index.js';
import { profileSettings } from '../shared/model/profile.js';
import { ConformalPolicy } from '../shared/threshold/conformal.js';
import { calibrationSplit, takeRows } from '../shared/threshold/holdout.js';
import { calibrationRowsFor } from '../shared/threshold/policy.js';
import { testFpr } from './eval/dumps.js';
import { prepareLabelledSet, type PreparedExperiment } from './eval/experiment.js';
import { meanStd } from './eval/metrics.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seeds: { type: 'string', default: '1,2,3' }, 'split-seed': { type: 'string', default: '42' } },
});
const sets = (positionals[0] ?? 'annthyroid,cardio,mammography,pendigits,satimage2,shuttle,thyroid').split(
  ',',
);
const seeds = values.seeds.split(',').map(Number);
const profile = profileSettings('default');
const ALPHA = 0.01;

/** Percent of the normal test rows whose `scores` exceed `threshold`. */
function fpr(prep: PreparedExperiment, scores: ArrayLike<number>, threshold: number): number {
  return 100 * testFpr({ test: scores, testLabels: prep.testLabels }, threshold);
}

async function trial(prep: PreparedExperiment, seed: number): Promise<Record<string, number>> {
  const d = prep.width;
  const split = calibrationSplit(
    prep.trainRows,
    profile.calibrationFraction,
    seed,
    calibrationRowsFor(profile.threshold),
  );
  const nFit = split.fit.length;
  const fitX = takeRows(prep.train, d, split.fit);
  const calX = takeRows(prep.train, d, split.calibration);
  const trained = await trainEnsemble(architectureFor(d), fitX, nFit, profile, seed);
  try {
    const { scoring, scores } = calibrate(
      trained.networks,
      profile.score,
      calX,
      split.calibration.length,
      'calibration',
    );
    const test = new EnsembleScorer(trained.networks, scoring).score(prep.test, prep.testRows).score;
    const oobSum = new Float64Array(nFit);
    const oobCount = new Int32Array(nFit);
    const half = new Float64Array(prep.testRows);
    trained.networks.forEach((net, m) => {
      const inBag = new Uint8Array(nFit);
      for (const i of memberSubsample(nFit, profile.subsample, memberSeedOf(seed, m)).fit) inBag[i] = 1;
      const one = new EnsembleScorer([net], { ...scoring, members: [scoring.members[m]!] });
      const s = one.score(fitX, nFit).score;
      for (let i = 0; i < nFit; i++) {
        if (inBag[i] === 1) continue;
        oobSum[i] += s[i]!;
        oobCount[i]++;
      }
      if (m % 2 === 0) one.score(prep.test, prep.testRows).score.forEach((v, i) => (half[i] += v));
    });
    const labels = prep.trainLabels!;
    const cal = Array.from(scores, (s, j) => ({ s, normal: labels[split.calibration[j]!] === 0 }));
    const oob = Array.from(split.fit, (r, i) => ({
      s: oobSum[i]! / oobCount[i]!,
      normal: labels[r] === 0,
    })).filter((_, i) => oobCount[i]! > 0);
    const threshold = (rows: { s: number }[], clean = false): number =>
      ConformalPolicy.fit(
        { alpha: ALPHA },
        rows.map((r) => r.s),
        'study',
        { clean },
      ).threshold;
    const both = threshold([...cal, ...oob]);
    const halfScores = Array.from(half, (v) => v / Math.ceil(trained.networks.length / 2));
    return {
      calibration: fpr(prep, test, threshold(cal)),
      'out-of-bag': fpr(prep, test, threshold(oob)),
      both: fpr(prep, test, both),
      'both, clean': fpr(
        prep,
        test,
        threshold(
          [...cal, ...oob].filter((r) => r.normal),
          true,
        ),
      ),
      'both, half the members on test': fpr(prep, halfScores, both),
    };
  } finally {
    for (const n of trained.networks) n.dispose();
  }
}

await initBackend({ prefer: 'cpu' });
console.log(`FPR (%) on the normal test rows at α = ${ALPHA}, per seed (${seeds.join(', ')}) and mean`);
for (const set of sets) {
  const prep = await prepareLabelledSet(set, { splitSeed: Number(values['split-seed']) });
  const runs: Record<string, number>[] = [];
  for (const seed of seeds) runs.push(await trial(prep, seed));
  for (const key of Object.keys(runs[0]!)) {
    const per = runs.map((r) => r[key]!);
    const { mean } = meanStd(per);
    console.log(`${set} | ${key} | ${per.map((v) => v.toFixed(2)).join(', ')} | ${mean.toFixed(2)}`);
  }
}
