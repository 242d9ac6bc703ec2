/**
 * Lab (not production): how wide the conformal policy's contamination fence should be, on the scores
 * `npm run bench:quality -- --dump-scores DIR` wrote. For each set, the false-positive rate on the normal
 * test rows at α = 0.01 with no fence, with fences of several widths alone (median + w × the scale, `SCALE_QUANTILE`),
 * with the production rule (`withoutContamination`: the 8× fence and the first cluster), and with the calibration rows' normal part only (labels the product never has).
 *
 *   npx tsx lab/fence-study.ts DIR
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTAMINATION_FENCE, withoutContamination } from '../shared/threshold/calibration.js';
import { ConformalPolicy } from '../shared/threshold/conformal.js';
import { meanStd } from './eval/metrics.js';

interface Dump {
  set: string;
  seed: number;
  calibration: number[];
  calibrationLabels: number[] | null;
  test: number[];
  testLabels: number[];
}

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

function testFpr(d: Dump, calibration: number[]): number {
  const policy = ConformalPolicy.fit({ alpha: 0.01 }, calibration, 'study', { clean: true });
  let fp = 0;
  let neg = 0;
  d.test.forEach((s, i) => {
    if (d.testLabels[i] === 1) return;
    neg++;
    if (policy.classify(s).flagged) fp++;
  });
  return fp / neg;
}

const dir = process.argv[2];
if (dir === undefined)
  throw new Error('usage: npx tsx lab/fence-study.ts DIR (from bench:quality --dump-scores)');
const bySet = new Map<string, Dump[]>();
for (const f of readdirSync(dir)
  .filter((n) => n.endsWith('.json'))
  .sort()) {
  const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dump;
  bySet.set(
    d.set,
    [...(bySet.get(d.set) ?? []), d].sort((a, b) => a.seed - b.seed),
  );
}
const pct = (v: number): string => (v * 100).toFixed(1);
console.log(`FPR (%) on the normal test rows at α = 0.01: mean over seeds [min–max]`);
console.log(['set (seeds)', ...VARIANTS.map((v) => v.name)].join(' | '));
const inBand = VARIANTS.map(() => 0);
for (const [set, dumps] of bySet) {
  const cells = VARIANTS.map((v, j) => {
    const rates = dumps.map((d) => testFpr(d, v.keep(d)));
    const { mean } = meanStd(rates);
    if (mean >= 0.005 && mean <= 0.02) inBand[j]!++;
    return `${pct(mean)} [${pct(Math.min(...rates))}–${pct(Math.max(...rates))}]`;
  });
  console.log([`${set} (${dumps.map((d) => d.seed).join(',')})`, ...cells].join(' | '));
}
console.log(['sets with a mean in 0.5–2 %', ...inBand.map(String)].join(' | '));
