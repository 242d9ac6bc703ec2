/**
 * `smae score`: offline batch scoring of a CSV file with a saved model artifact.
 *
 * Writes one CSV line per data row: its 1-based row number in the file, the MSE, the flag (MSE above
 * the model's threshold) and the top contributing features with their share of the row's squared
 * error. A row that cannot be prepared (missing or non-numeric value, …) gets its error in the `error`
 * column instead of stopping the run. A summary line goes to stderr.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { z } from 'zod';
import { describeThreshold } from '../../../shared/threshold/manifest.js';
import { SmaeError } from '../../../shared/errors.js';
import { createLogger } from '../../../shared/log.js';
import { loadCsv } from '../../../shared/data/csv.js';
import { loadArtifact } from '../../../shared/model/artifact.js';
import { Detector, initBackend } from '../../../shared/model/index.js';
import { parseOptions, protectStdout } from '../../../shared/eval/cli.js';
import { scoreTable, type ScoredRow } from '../../../shared/eval/batch-score.js';

const ScoreOptionsSchema = z.object({
  model: z.string().min(1),
  data: z.string().min(1),
  out: z.string().min(1).optional(),
  top: z.coerce.number('must be a number').int('must be a whole number').min(0, 'must be ≥ 0').max(1000),
  labelColumn: z.string().min(1),
  onlyFlagged: z.boolean(),
  backend: z.enum(['auto', 'cpu', 'wasm', 'tensorflow']),
  verbose: z.boolean(),
});

export type ScoreOptions = z.output<typeof ScoreOptionsSchema>;

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('flag the rows of a CSV file with a saved model (offline batch scoring)')
    .requiredOption('--model <dir>', 'model artifact directory (e.g. from `smae eval --save-model`)')
    .requiredOption('--data <file>', 'CSV file with a header row holding the model’s feature columns')
    .option('--out <file>', 'write the scores CSV here instead of stdout')
    .option('--top <k>', 'top contributing features per row', '3')
    .option('--label-column <name>', 'a label column to carry over to the output (never a feature)', 'label')
    .option('--only-flagged', 'write only flagged rows and rows in error', false)
    .option('--backend <name>', 'TensorFlow.js backend: auto, cpu, wasm or tensorflow', 'auto')
    .option('--verbose', 'log at info level on stderr', false)
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseOptions(ScoreOptionsSchema, raw);
      await protectStdout(() => runScore(opts));
    });
}

export async function runScore(opts: ScoreOptions): Promise<void> {
  const logger = createLogger({ service: 'smae-score', level: opts.verbose ? 'info' : 'warn' });
  const artifact = await loadArtifact(opts.model);
  const table = await loadCsv(opts.data, { labelColumn: opts.labelColumn, labelRequired: false });
  const missing = artifact.manifest.preprocessing.spec.features
    .map((f) => f.name)
    .filter((name) => !table.columns.includes(name));
  if (missing.length > 0) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${opts.data} lacks feature column${missing.length > 1 ? 's' : ''} the model needs: ${missing.join(', ')}`,
    );
  }
  await initBackend({ prefer: opts.backend, logger });
  const detector = Detector.fromArtifact(artifact);
  let scored: ScoredRow[];
  try {
    scored = scoreTable(detector, table.rows, { topK: opts.top });
  } finally {
    detector.dispose();
  }

  const out = opts.out === undefined ? process.stdout : createWriteStream(opts.out);
  const hasLabels = table.labels !== undefined;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  await write(['row', 'mse', 'flag', 'top_features', ...(hasLabels ? ['label'] : []), 'error'].join(','));
  let flagged = 0;
  let errors = 0;
  for (const r of scored) {
    if (r.error) errors++;
    else if (r.flag) flagged++;
    if (opts.onlyFlagged && !r.flag && !r.error) continue;
    const cells = [
      String(r.row),
      r.mse === null ? '' : String(r.mse),
      r.flag === null ? '' : r.flag ? '1' : '0',
      csvCell(r.top.map((c) => `${c.feature}:${c.share.toFixed(3)}`).join(';')),
      ...(hasLabels ? [String(table.labels![r.row - 1])] : []),
      csvCell(r.error ?? ''),
    ];
    await write(cells.join(','));
  }
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
  const version = artifact.manifest.version === null ? 'unpublished' : `v${artifact.manifest.version}`;
  process.stderr.write(
    `scored ${scored.length - errors} of ${scored.length} rows: ${flagged} flagged ` +
      `(${((100 * flagged) / Math.max(1, scored.length - errors)).toFixed(1)} %), ${errors} in error; ` +
      `threshold ${artifact.manifest.threshold.value.toPrecision(6)} (${describeThreshold(artifact.manifest.threshold)}, model ${version})` +
      `${opts.out ? `; written to ${opts.out}` : ''}\n`,
  );
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
