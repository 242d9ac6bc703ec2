/**
 * Lab (not production): default-profile variants on labelled sets, e.g.
 * `SEEDS=1,2 npx tsx lab/variant.ts annthyroid,cardio '{"base":{},"noRevive":{"reviveDeadUnits":false}}'`
 * (run from the repository root; data in ../shared/data, or in SMAE_DATA_DIR as for `npm run bench:quality`).
 */
import { prepareLabelledSet, runTrial } from './eval/experiment.js';
import { initBackend } from '../shared/model/index.js';
import { profileSettings } from '../shared/model/profile.js';
await initBackend({ prefer: 'cpu' });
const sets = process.argv[2]!.split(',');
const variants: Record<string, object> = JSON.parse(process.argv[3]!);
for (const set of sets) {
  const prep = await prepareLabelledSet(set);
  for (const [name, o] of Object.entries(variants)) {
    const aucs: string[] = [];
    for (const seed of (process.env.SEEDS ?? '1').split(',').map(Number)) {
      const c0 = process.cpuUsage();
      const r = await runTrial(prep, { seed, profile: profileSettings('default', o as never), adapt: false });
      const c = process.cpuUsage(c0);
      aucs.push(
        `${r.rocAuc!.toFixed(4)}(${((c.user + c.system) / 1e6).toFixed(0)}s,ep${r.members!.map((m) => m.epochs).join('/')},rv${r.members!.reduce((a, m) => a + m.revivedUnits, 0)})`,
      );
    }
    console.log(set, name, aucs.join(' '));
  }
}
