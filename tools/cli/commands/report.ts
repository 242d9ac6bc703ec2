/**
 * `smae report --run DIR`: builds the self-contained HTML report of a demo run from its results.json.
 */
import type { Command } from 'commander';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../../shared/errors.js';
import { buildReport } from '../../../lab/report/build.js';
import { RESULTS_FILE } from '../../../lab/report/results.js';

/** The newest run directory under `root` that holds a results file, or null. */
async function latestRun(root: string): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return null;
  }
  for (const name of names.sort().reverse()) {
    try {
      await stat(join(root, name, RESULTS_FILE));
      return join(root, name);
    } catch {
      // not a finished run
    }
  }
  return null;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'build the HTML report of a demo run (charts, detection by phase, adaptations) from its results.json',
    )
    .option('--run <dir>', 'the run directory holding results.json (default: the newest under ./runs)')
    .option('--out <file>', 'where to write the page (default: <run>/report.html)')
    .action(async (opts: { run?: string; out?: string }) => {
      const dir = opts.run ?? (await latestRun('runs'));
      if (dir === null) {
        throw new ConfigError('no run to report on', [
          { path: '--run', message: 'name a run directory (runs/<timestamp>), or run `npm run demo` first' },
        ]);
      }
      const built = await buildReport(dir, opts.out);
      process.stdout.write(`${built.path}\n`);
    });
}
