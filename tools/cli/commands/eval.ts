/**
 * `smae eval`: the report's offline experiment on a CSV file (split, injection or real labels,
 * training, adaptation, p95 threshold, metrics), for one seed or several (mean ± std).
 *
 * stdout carries only the result (a table, or one JSON object with `--json`); logs, the progress bar
 * and anything a library prints go to stderr.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../../shared/errors.js';
import { createLogger, type Logger } from '../../../shared/log.js';
import { loadCsv } from '../../../shared/data/csv.js';
import {
  prepareExperiment,
  runTrial,
  type PreparedExperiment,
  type Protocol,
  type TrialResult,
} from '../../../lab/eval/experiment.js';
import { formatTable, summarize } from '../../../lab/eval/report.js';
import { createProgress } from '../../../lab/eval/progress.js';
import { initBackend } from '../../../shared/model/index.js';
import { saveEvalModel } from '../../../lab/eval/save.js';
import { parseOptions, positiveInt, protectStdout, seedList, seedNumber } from '../options.js';
import { commaList } from '../../../shared/config/fields.js';
import { DEFAULT_CALIBRATION_FRACTION } from '../../../shared/threshold/holdout.js';
import {
  DEFAULT_POLICY_KIND,
  DEFAULT_TARGET_FPR,
  policyKindOption,
  specFromChoice,
  targetFprOption,
} from '../../../shared/threshold/policy.js';
import { POLICY_KINDS } from '../../../shared/threshold/types.js';
import { DEFAULT_PROFILE, PROFILE_NAMES, PROFILES, profileSettings } from '../../../shared/model/profile.js';

const EvalOptionsSchema = z.object({
  data: z.string().min(1, 'a data file is required'),
  inject: z
    .string()
    .transform((v) => v.toUpperCase())
    .pipe(z.enum(['A', 'B'])),
  labels: z.boolean(),
  labelColumn: z.string().min(1),
  adapt: z.boolean(),
  percentile: z.coerce
    .number('must be a number')
    .gt(0, 'must be in (0, 100]')
    .lte(100, 'must be in (0, 100]')
    .optional(),
  thresholdPolicy: policyKindOption.optional(),
  targetFpr: targetFprOption.optional(),
  scale: z.enum(['none', 'standard', 'minmax']).optional(),
  epochs: positiveInt.max(100_000, 'at most 100000').optional(),
  batchSize: positiveInt,
  seed: seedNumber,
  seeds: seedList.optional(),
  splitSeed: seedNumber,
  backend: z.enum(['auto', 'cpu', 'wasm', 'tensorflow']),
  ignore: commaList,
  json: z.boolean(),
  progress: z.boolean(),
  saveModel: z.string().min(1).optional(),
  verbose: z.boolean(),
  profile: z.enum(PROFILE_NAMES),
});

export type EvalOptions = z.output<typeof EvalOptionsSchema>;

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description("reproduce the report's offline experiment on a CSV file")
    .requiredOption('--data <file>', 'CSV file with a header row (numeric features; optional label column)')
    .option(
      '--inject <variant>',
      'anomaly injection into the test part: A (public data) or B (private data)',
      'A',
    )
    .option('--labels', "evaluate against the file's own label column instead of injecting", false)
    .option('--label-column <name>', 'the 0/1 label column (1 = anomaly); never used as a feature', 'label')
    .option('--no-adapt', "skip the report's adaptation on 10 test rows")
    .option(
      '--percentile <p>',
      "threshold percentile of the training MSE (report) or calibration scores (the profile's, by default)",
    )
    .option(
      '--threshold-policy <kind>',
      `a policy fitted on ${DEFAULT_CALIBRATION_FRACTION * 100} % of the training part held out, instead of the profile's: ` +
        `${POLICY_KINDS.join(', ')} (default ${DEFAULT_POLICY_KIND} with --target-fpr)`,
    )
    .option('--target-fpr <rate>', `false-positive rate the policy aims at (default ${DEFAULT_TARGET_FPR})`)
    .option(
      '--scale <kind>',
      "scaler fitted on the training split: none, standard or minmax (default: the profile's, minmax)",
    )
    .option('--epochs <n>', "training epochs (per member; the profile's by default)")
    .option('--batch-size <n>', 'training batch size', '32')
    .option('--seed <n>', 'seed of initial weights and shuffling', '1')
    .option('--seeds <list>', 'several seeds, e.g. 1,2,3,4,5 or 1-5: prints mean ± std')
    .option(
      '--split-seed <n>',
      'seed of the split, the injection and the support rows (the report: 42)',
      '42',
    )
    .option('--backend <name>', 'TensorFlow.js backend: auto, cpu, wasm or tensorflow', 'auto')
    .option('--ignore <columns>', 'comma-separated columns to leave out of the features (e.g. timestamp)')
    .option('--json', 'print one JSON object on stdout', false)
    .option('--no-progress', 'no progress bar (it is only drawn when stderr is a terminal)')
    .option(
      '--save-model <dir>',
      "save the (first seed's) trained model as an artifact directory, for `smae score`",
    )
    .option(
      '--profile <name>',
      "model profile: default (production: robust ensemble) or report (exactly the report's network)",
      DEFAULT_PROFILE,
    )
    .option('--verbose', 'log at info level on stderr', false)
    .addHelpText(
      'after',
      "\nScaling defaults to the profile's (minmax in both): it is fitted on the training split only, puts every feature on one scale\n" +
        '(raw units would let the largest-valued column dominate the MSE) and lifts zeros off 0, so the\n' +
        "report's multiplicative injection is visible in every column. Use --scale none for data already scaled.\n" +
        "Split, injection and support rows are drawn as numpy's RandomState draws them: with --split-seed 42\n" +
        "they are the report's own rows.\n",
    )
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseOptions(EvalOptionsSchema, raw);
      await protectStdout(() => runEval(opts));
    });
}

export async function runEval(opts: EvalOptions): Promise<void> {
  const logger = createLogger({ service: 'smae-eval', level: opts.verbose ? 'info' : 'warn' });
  const table = await loadCsv(opts.data, { labelColumn: opts.labelColumn, labelRequired: opts.labels });
  const backend = await initBackend({ prefer: opts.backend, logger });
  const scale = opts.scale ?? PROFILES[opts.profile].scale;
  const prepared = prepareTable(opts, table, scale);
  logger.info(
    { rows: table.rows.length, train: prepared.trainRows, test: prepared.testRows, backend },
    'data prepared',
  );
  const { profile, choice } = evalProfile(opts);
  const seeds = opts.seeds ?? [opts.seed];
  const results = await runSeeds(opts, seeds, prepared, profile, choice, logger);

  if (opts.saveModel !== undefined) {
    const first = results[0]!;
    try {
      await saveEvalModel(opts.saveModel, prepared, first, { source: opts.data, batchSize: opts.batchSize });
    } finally {
      first.network?.dispose();
      delete first.network;
    }
    logger.info({ dir: opts.saveModel }, 'model saved');
  }

  const percentileOf = (p: typeof profile): number | string =>
    p.threshold.kind === 'percentile'
      ? (p.threshold.params as { percentile: number }).percentile
      : p.threshold.kind;
  const summary = summarize(prepared, results, {
    data: opts.data,
    inject: opts.labels ? null : opts.inject,
    labels: opts.labels,
    labelColumn: opts.labels ? opts.labelColumn : (table.labelColumn ?? null),
    adapt: opts.adapt,
    supportRows: prepared.supportIndex.length,
    percentile: percentileOf(profile),
    threshold: profile.threshold,
    scale,
    epochs: profile.epochs,
    profile: profile.name,
    batchSize: opts.batchSize,
    seeds,
    splitSeed: opts.splitSeed,
    backend: opts.backend,
    ignore: opts.ignore,
    savedModel: opts.saveModel ?? null,
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    process.stdout.write(
      `${formatTable(summary)}\n${opts.saveModel ? `\nmodel saved to ${opts.saveModel}\n` : ''}`,
    );
}

type Table = Awaited<ReturnType<typeof loadCsv>>;

/** The table split and scaled as the protocol says; a column the options leave unusable is a `ConfigError`. */
function prepareTable(
  opts: EvalOptions,
  table: Table,
  scale: NonNullable<EvalOptions['scale']>,
): PreparedExperiment {
  const unknown = opts.ignore.filter((c) => !table.columns.includes(c));
  if (unknown.length > 0) {
    throw new ConfigError('invalid option', [
      { path: 'ignore', message: `no such column: ${unknown.join(', ')}` },
    ]);
  }
  const columns = table.columns.filter((c) => !opts.ignore.includes(c));
  const numericColumns = table.numericColumns.filter((c) => columns.includes(c));
  if (numericColumns.length === 0) {
    throw new ConfigError('invalid option', [
      { path: 'ignore', message: 'leaves no numeric feature column' },
    ]);
  }
  const protocol: Protocol = opts.labels ? { kind: 'labels' } : { kind: 'inject', variant: opts.inject };
  try {
    return prepareExperiment(
      {
        dataset: basename(opts.data),
        columns,
        numericColumns,
        rows: table.rows,
        ...(table.labels ? { labels: table.labels } : {}),
      },
      { protocol, scale, splitSeed: opts.splitSeed },
    );
  } catch (err) {
    // Columns the spec inference refuses (identifiers, timestamps): say which flag leaves them out.
    if (err instanceof ConfigError && err.issues.length > 0) {
      throw new ConfigError(
        err.message,
        err.issues.map((i) => ({
          path: i.path,
          message: `${i.message} (leave it out with --ignore ${i.path})`,
        })),
      );
    }
    throw err;
  }
}

/** The profile with the options' overrides: --threshold-policy / --target-fpr, else --percentile, else its own. */
function evalProfile(opts: EvalOptions) {
  const choice = specFromChoice(opts);
  const profile = profileSettings(opts.profile, {
    ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
    ...(choice !== undefined
      ? { threshold: choice }
      : opts.percentile !== undefined
        ? { threshold: { kind: 'percentile' as const, params: { percentile: opts.percentile } } }
        : {}),
  });
  if (opts.saveModel !== undefined && profile.name !== 'report') {
    throw new ConfigError('invalid option', [
      {
        path: 'save-model',
        message: "saves the report profile's single network only (use --profile report, or `smae train`)",
      },
    ]);
  }
  return { profile, choice };
}

/** One trial per seed, with a progress bar each; the first keeps its network when it is to be saved. */
async function runSeeds(
  opts: EvalOptions,
  seeds: readonly number[],
  prepared: PreparedExperiment,
  profile: ReturnType<typeof profileSettings>,
  choice: ReturnType<typeof specFromChoice>,
  logger: Logger,
): Promise<TrialResult[]> {
  const results: TrialResult[] = [];
  for (const [i, seed] of seeds.entries()) {
    const label = seeds.length > 1 ? `seed ${seed} (${i + 1}/${seeds.length})` : `training`;
    const bar = createProgress(
      opts.progress ? process.stderr : { write: () => true },
      profile.members * profile.epochs,
      label,
    );
    try {
      const result = await runTrial(prepared, {
        seed,
        epochs: profile.epochs,
        batchSize: opts.batchSize,
        ...(profile.threshold.kind === 'percentile' && choice === undefined
          ? { percentile: (profile.threshold.params as { percentile: number }).percentile }
          : { threshold: profile.threshold }),
        adapt: opts.adapt,
        profile,
        logger,
        keepNetwork: i === 0 && opts.saveModel !== undefined,
        onEpoch: (e) => bar.update(e.epoch, `loss ${e.loss.toPrecision(4)}`),
      });
      results.push(result);
    } finally {
      bar.done();
    }
    logger.info({ seed, f1Macro: results[i]!.f1Macro, trainSeconds: results[i]!.trainSeconds }, 'run done');
  }
  return results;
}
