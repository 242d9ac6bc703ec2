/**
 * Lab (not production): how wide the conformal policy's contamination fence should be, on the scores
 * `npm run bench:quality -- --dump-scores DIR` wrote. For each set, the false-positive rate on the normal
 * test rows at α = 0.01 with no fence, with fences of several widths alone (median + w × the scale, `SCALE_QUANTILE`),
 * with the production rule (`withoutContamination`: the 8× fence and the first cluster), and with the calibration rows' normal part only (labels the product never has).
 *
 *   npx tsx lab/fence-study.ts DIR
 */
import { CONTAMINATION_FENCE, withoutContamination } from '../shared/threshold/calibration.js';
import { ConformalPolicy } from '../shared/threshold/conformal.js';
import { readDumps, testFpr, type Dump } from './eval/dumps.js';
import { meanStd } from './eval/metrics.js';

const WIDTHS = [4, 6, CONTAMINATION_FENCE, 12, 16];
const VARIANTS: { name: string; keep(d: Dump): number[] }[] = [
  { name: 'no fence', keep: (d) => d.calibration },
  ...WIDTHS.map((w) => ({
    name: `fence ${w}×`,
    keep: (d: Dump) => withoutContamination(d.calibration, { fence: w, clusters: false }),
  })),
  { name: 'default (8× + cluster)', keep: (d) => withoutContamination(d.calibration) },
  {
    name: 'clean',
    keep: (d: Dump) => d.calibration.filter((_, i) => d.calibrationLabels?.[i] === 0),
  },
];

/** The normal test rows' FPR at the conformal threshold (α = 0.01) fitted on `calibration` as given. */
function fprWith(d: Dump, calibration: number[]): number {
  return testFpr(d, ConformalPolicy.fit({ alpha: 0.01 }, calibration, 'study', { clean: true }).threshold);
}

const dir = process.argv[2];
if (dir === undefined)
  throw new Error('usage: npx tsx lab/fence-study.ts DIR (from bench:quality --dump-scores)');
const bySet = readDumps([dir]);
const pct = (v: number): string => (v * 100).toFixed(1);
console.log(`FPR (%) on the normal test rows at α = 0.01: mean over seeds [min–max]`);
console.log(['set (seeds)', ...VARIANTS.map((v) => v.name)].join(' | '));
const inBand = VARIANTS.map(() => 0);
for (const [set, dumps] of bySet) {
  const cells = VARIANTS.map((v, j) => {
    const rates = dumps.map((d) => fprWith(d, v.keep(d)));
    const { mean } = meanStd(rates);
    if (mean >= 0.005 && mean <= 0.02) inBand[j]!++;
    return `${pct(mean)} [${pct(Math.min(...rates))}–${pct(Math.max(...rates))}]`;
  });
  console.log([`${set} (${dumps.map((d) => d.seed).join(',')})`, ...cells].join(' | '));
}
console.log(['sets with a mean in 0.5–2 %', ...inBand.map(String)].join(' | '));
