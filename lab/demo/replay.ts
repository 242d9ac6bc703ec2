/**
 * The demo's stream replayed offline: no Kafka, no Redis, no clock. The first model is trained as
 * `npm run demo` trains it (default profile, the generator's training prefix), then every `every` rows
 * (the demo's adapter period × its rate: 5 s × 400/s) the model in force has scored them and the adapter's
 * `computeAdaptation` sees the newest `window` rows, as the service would. The false-positive rate per
 * phase is what the demo's summary reports, without the run-to-run noise of timing (how many cycles a
 * loaded machine completes), so adaptation options can be compared on the same rows. `--lag N` plays the
 * adapter's compute time: a published model takes over N rows into the next window (default 0; the demo's
 * cycles took 1.8–4.6 s, 700–1,800 rows at 400/s, before adaptation ran in plain loops on the cpu backend,
 * and 0.2–0.7 s, 100–270 rows, after).
 *
 *   npx tsx lab/demo/replay.ts [--seed 42] [--every 2000] [--lag 1000] [--adaptation '{"default":{"margin":2}}']
 */
import { parseArgs } from 'node:util';
import { initBackend, trainDetector } from '../../shared/model/index.js';
import { resolveAdaptationOptions } from '../../shared/adaptation/config.js';
import { replay, asVersion } from '../drift/replay.js';
import type { SimRow } from '../drift/drift-stream.js';
import { syntheticEvents, SYNTHETIC_FEATURES } from '../generator/synthetic.js';
import type { LabelledEvent } from '../generator/events.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '42' },
    every: { type: 'string', default: '2000' },
    lag: { type: 'string', default: '0' },
    adaptation: { type: 'string', default: '{}' },
    'no-adapter': { type: 'boolean', default: false },
  },
});
const seed = Number(values.seed);
const every = Number(values.every);
const names = SYNTHETIC_FEATURES.map((f) => f.name);
const events: LabelledEvent[] = [...syntheticEvents({ seed })];
const toRow = (e: LabelledEvent): SimRow => ({
  record: Object.fromEntries(names.map((n) => [n, e.record[n] as number | string])),
  key: e.key,
  ts: e.eventTime,
  label: e.label,
});
const train = events.filter((e) => e.phase === 'train');
const stream = events.filter((e) => e.phase !== 'train');

await initBackend({ prefer: 'cpu' });
const det = await trainDetector(
  train.map((e) => toRow(e).record),
  {
    source: 'demo replay',
    fit: { seed },
    infer: {
      numeric: SYNTHETIC_FEATURES.filter((f) => f.kind === 'numeric').map((f) => f.name),
      categorical: ['region'],
    },
    profile: (await import('../../shared/model/profile.js')).profileSettings('default'),
  },
);
const trained = asVersion(det.toArtifact(), 1);
det.dispose();

const options = values['no-adapter'] ? null : resolveAdaptationOptions(JSON.parse(values.adaptation));
const count = Math.ceil(stream.length / every);
const byPhase = new Map<string, { fp: number; normals: number }>();
const results = await replay(
  { name: 'demo', options },
  {
    trained,
    count,
    lagRows: Number(values.lag),
    windows: (w) => stream.slice(w * every, (w + 1) * every).map(toRow),
  },
);
// Per phase: count false positives again from the window results' rates (windows never straddle a phase
// when `every` divides the phase length; otherwise the window's phase is its first row's).
results.forEach((r, w) => {
  const first = stream[w * every]!;
  const rows = stream.slice(w * every, (w + 1) * every);
  const normals = rows.filter((e) => e.label === 0).length;
  const p = byPhase.get(first.phase) ?? { fp: 0, normals: 0 };
  p.fp += r.fpr * normals;
  p.normals += normals;
  byPhase.set(first.phase, p);
});
let fp = 0;
let normals = 0;
const parts: string[] = [];
for (const [phase, p] of byPhase) {
  fp += p.fp;
  normals += p.normals;
  parts.push(`${phase} ${((100 * p.fp) / p.normals).toFixed(2)} %`);
}
const published = results.filter((r) => r.published === true).length;
const refused = results.filter((r) => r.published === false).map((r) => r.reasons.join('+'));
console.log(
  `FPR ${((100 * fp) / normals).toFixed(2)} % (${parts.join(', ')}); recall ${(
    results.reduce((a, r) => a + (Number.isNaN(r.recall) ? 1 : r.recall), 0) / results.length
  ).toFixed(4)}; ${published} published, refused: ${refused.join(', ') || 'none'}; ` +
    `compute ${Math.round(results.reduce((a, r) => a + r.computeMs, 0) / Math.max(1, results.length))} ms per cycle`,
);
console.log(
  results
    .map(
      (r) =>
        `${(100 * r.fpr).toFixed(1)}${r.published === false ? `[${r.reasons.join('+')} step ${r.thresholdStep?.toFixed(2)} drift ${r.thresholdDrift?.toFixed(2)}]` : ''}`,
    )
    .join(' '),
);
