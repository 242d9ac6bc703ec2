/**
 * `npm run demo -- [options]`: the demo's command line, validated once into `DemoOptions`.
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../shared/errors.js';
import { parseDuration } from '../../shared/config/fields.js';
import {
  DEFAULT_POLICY_KIND,
  DEFAULT_TARGET_FPR,
  policyKindOption,
  targetFprOption,
} from '../../shared/threshold/policy.js';
import { POLICY_KINDS } from '../../shared/threshold/types.js';
import { DEFAULT_PROFILE, PROFILE_NAMES } from '../../shared/model/profile.js';

const positiveInt = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .positive(`${name} must be > 0`);

const share = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .min(0, `${name} must be ≥ 0`)
    .max(1, `${name} must be ≤ 1`);

const duration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (!Number.isFinite(ms) || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 15s, 2m or 500ms' });
    return z.NEVER;
  }
  return ms;
});

export const demoOptionsSchema = z.object({
  rate: z.coerce
    .number({ error: 'rate must be a number' })
    .min(0, 'rate must be ≥ 0 (0 = as fast as possible)'),
  records: positiveInt('records'),
  trainRecords: positiveInt('train-records'),
  seed: z.coerce.number().int('seed must be a whole number'),
  pipeline: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/, "pipeline must be 1–100 letters, digits, '.', '_' or '-'")
    .optional(),
  data: z.string().min(1).optional(),
  labelColumn: z.string().min(1),
  keyColumn: z.string().min(1).optional(),
  trainShare: share('train-share').refine(
    (v) => v > 0 && v < 1,
    'train-share must lie strictly between 0 and 1',
  ),
  anomalyShare: share('anomaly-share'),
  drift: z.coerce.number().min(0, 'drift must be ≥ 0'),
  partitions: positiveInt('partitions').max(64, 'partitions must be ≤ 64'),
  percentile: z.coerce.number().gt(0).lt(100, 'percentile must lie in (0, 100)'),
  thresholdPolicy: policyKindOption.optional(),
  targetFpr: targetFprOption.optional(),
  epochs: positiveInt('epochs'),
  profile: z.enum(PROFILE_NAMES),
  delivery: z.enum(['exactly-once', 'at-least-once']),
  adapter: z.boolean(),
  warmUp: z.boolean(),
  adaptEvery: duration,
  backend: z.enum(['auto', 'cpu', 'wasm', 'tensorflow']),
  windows: positiveInt('windows').max(500),
  out: z.string().min(1),
  json: z.boolean().optional(),
  drainTimeout: duration,
  cleanup: z.boolean(),
});

export type DemoOptions = z.infer<typeof demoOptionsSchema>;

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'The whole pipeline on this machine: local Kafka and Redis, a labelled event stream with drift and ' +
        'injected anomalies, a trained model, the scorer and the adapter as separate processes, a live view, ' +
        'a summary against the labels and an HTML report.',
    )
    .option('--rate <n>', 'records per second to stream (0 = as fast as possible)', '400')
    .option('--records <n>', 'records to stream after the training part', '24000')
    .option('--train-records <n>', 'anomaly-free records the first model is trained on (generator)', '6000')
    .option('--seed <n>', 'seed of the generator, the injections and the training', '42')
    .option('--pipeline <name>', 'pipeline name (default: demo-<time>, so runs never mix)')
    .option(
      '--data <file.csv>',
      'stream a CSV file instead of the generator (labels from --label-column, else injected)',
    )
    .option('--label-column <name>', 'the 0/1 label column of --data, if it has one', 'label')
    .option('--key-column <name>', 'a column of --data to use as the Kafka key (default: the row number)')
    .option('--train-share <x>', 'share of --data rows used for training', '0.3')
    .option(
      '--anomaly-share <x>',
      'share of streamed records with an injected anomaly (variants A and B)',
      '0.05',
    )
    .option('--drift <x>', 'drift magnitude of the generator (0 = none, 1 = default)', '1')
    .option('--partitions <n>', 'partitions of the pipeline topics', '3')
    .option(
      '--percentile <p>',
      'threshold percentile of the training scores (--profile report, without a policy)',
      '99',
    )
    .option(
      '--threshold-policy <kind>',
      `instead, a policy fitted on held-out training rows: ${POLICY_KINDS.join(', ')} (default ${DEFAULT_POLICY_KIND} with --target-fpr)`,
    )
    .option('--target-fpr <rate>', `false-positive rate the policy aims at (default ${DEFAULT_TARGET_FPR})`)
    .option('--epochs <n>', 'training epochs (--profile report)', '30')
    .option(
      '--profile <name>',
      "model profile: default (robust ensemble, conformal 1 % policy) or report (the report's network)",
      DEFAULT_PROFILE,
    )
    .addOption(
      new Option('--delivery <mode>', 'scorer delivery')
        .choices(['exactly-once', 'at-least-once'])
        .default('exactly-once'),
    )
    .option('--no-adapter', 'do not start the adapter (the first model scores everything)')
    .option('--no-warm-up', 'do not warm a local broker up while the first model trains')
    .option('--adapt-every <duration>', 'how often the adapter runs', '5s')
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'cpu', 'wasm', 'tensorflow'])
        .default('auto'),
    )
    .option('--windows <n>', 'windows of the per-window figures in the report', '40')
    .option('--out <dir>', 'where run directories are written', 'runs')
    .option(
      '--json',
      'periodic JSON lines instead of the live view (the default when stdout is not a terminal)',
    )
    .option('--drain-timeout <duration>', 'how long to wait for the last scores after streaming', '90s')
    .option('--cleanup', "delete the run's topics and Redis keys at the end", false);
}

/** Parses argv (without node and script) into validated options; throws ConfigError listing every problem. */
export function parseDemoOptions(argv: readonly string[]): DemoOptions {
  const cmd = demoCommand().exitOverride().showHelpAfterError();
  cmd.parse([...argv], { from: 'user' });
  const raw = cmd.opts();
  const result = demoOptionsSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      'invalid demo options',
      result.error.issues.map((i) => ({
        path: `--${String(i.path[0] ?? '')
          .replace(/([A-Z])/g, '-$1')
          .toLowerCase()}`,
        message: i.message,
      })),
    );
  }
  return result.data;
}
