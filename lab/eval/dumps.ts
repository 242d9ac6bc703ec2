/**
 * The score dumps `npm run bench:quality -- --dump-scores DIR` writes (one JSON file per set and seed), read
 * back for the offline studies (`lab/fence-study.ts`, `lab/threshold-study.ts`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Dump {
  set: string;
  seed: number;
  calibration: number[];
  /** The calibration rows' labels (the product never has them; studies compare against them). */
  calibrationLabels: number[] | null;
  test: number[];
  testLabels: number[];
}

/** Every dump in `dirs`, by set, each set's dumps in seed order. */
export function readDumps(dirs: readonly string[]): Map<string, Dump[]> {
  const bySet = new Map<string, Dump[]>();
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dump;
      bySet.set(d.set, [...(bySet.get(d.set) ?? []), d]);
    }
  }
  for (const dumps of bySet.values()) dumps.sort((a, b) => a.seed - b.seed);
  return new Map([...bySet].sort(([a], [b]) => a.localeCompare(b)));
}

/** The share of the normal test rows scoring above `threshold`. */
export function testFpr(
  d: { test: ArrayLike<number>; testLabels: ArrayLike<number> },
  threshold: number,
): number {
  let fp = 0;
  let neg = 0;
  for (let i = 0; i < d.test.length; i++) {
    if (d.testLabels[i] === 1) continue;
    neg++;
    if (d.test[i]! > threshold) fp++;
  }
  return fp / neg;
}
