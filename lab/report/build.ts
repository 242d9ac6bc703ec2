/**
 * Builds `report.html` beside a run's `results.json` (what `smae report` and the demo call).
 */
import { writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderReport } from './html.js';
import { REPORT_FILE, RESULTS_FILE, readRunResults } from './results.js';

export interface BuiltReport {
  /** Absolute path of the written page. */
  path: string;
  bytes: number;
}

/** Reads `<runDir>/results.json`, validates it and writes `<runDir>/report.html` (or `out`) atomically. */
export async function buildReport(runDir: string, out?: string): Promise<BuiltReport> {
  const results = await readRunResults(join(runDir, RESULTS_FILE));
  const html = renderReport(results);
  const path = resolve(out ?? join(runDir, REPORT_FILE));
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, html, 'utf8');
  await rename(tmp, path);
  return { path, bytes: Buffer.byteLength(html) };
}
