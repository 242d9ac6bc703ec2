/**
 * `smae train`: trains a detector on a CSV file or on the last N records of a Kafka topic and
 * publishes it to the pipeline's model registry (and/or saves an artifact directory).
 *
 * Training runs in a worker thread (the trainer core in `shared/training`). Progress: a bar on a
 * terminal, one JSON log line per epoch on stderr otherwise. stdout carries only the result (a short
 * summary, or one JSON object with `--json`).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, SmaeError } from '../../../shared/errors.js';
import { createLogger, type Logger } from '../../../shared/log.js';
import { createProgress } from '../../../lab/eval/progress.js';
import { loadEnvFile, parseOptions, positiveInt, protectStdout, seedNumber } from '../options.js';
import { pipelineNames, validatePipelineName } from '../../../shared/pipeline.js';
import { createRedis, pingRedis, redactUrl, redisUrlFromEnv } from '../../../shared/redis/client.js';
import { checkKafkaTls, kafkaConnectionFromEnv } from '../../../shared/kafka/client.js';
import { createKafkaPort } from '../../../shared/kafka/ports.js';
import {
  bundledSchemaPath,
  loadSchemaFile,
  RecordDecoder,
  schemaIdSource,
} from '../../../shared/avro/index.js';
import { ModelRegistry } from '../../../shared/registry/index.js';
import {
  runTraining,
  trainingOptions,
  type TrainingOutcome,
  type TrainingSource,
} from '../../../shared/training/index.js';
import { commaList } from '../../../shared/config/fields.js';
import { loadFeatureSpecFile } from '../../../shared/preprocessing/spec-file.js';
import { describeThreshold } from '../../../shared/threshold/manifest.js';
import { DEFAULT_PROFILE, PROFILE_NAMES, profileSettings } from '../../../shared/model/profile.js';
import {
  DEFAULT_POLICY_KIND,
  DEFAULT_TARGET_FPR,
  policyKindOption,
  targetFprOption,
} from '../../../shared/threshold/policy.js';
import { POLICY_KINDS } from '../../../shared/threshold/types.js';
import type { Redis } from 'ioredis';

const TrainOptionsSchema = z
  .object({
    data: z.string().min(1).optional(),
    topic: z.string().min(1).optional(),
    last: positiveInt.optional(),
    schema: z.string().min(1).optional(),
    schemaDir: z.string().min(1).optional(),
    schemaRegistry: z.url().optional(),
    pipeline: z.string().refine((v) => {
      try {
        validatePipelineName(v);
        return true;
      } catch {
        return false;
      }
    }, 'letters, digits, ".", "_" or "-", starting with a letter or digit'),
    labelColumn: z.string().min(1),
    features: z.string().min(1).optional(),
    exclude: commaList,
    categorical: commaList,
    scale: z.enum(['none', 'standard', 'minmax']).optional(),
    impute: z.enum(['error', 'mean', 'zero']),
    epochs: positiveInt.max(100_000),
    batchSize: positiveInt,
    learningRate: z.coerce.number('must be a number').positive('must be > 0').optional(),
    percentile: z.coerce
      .number('must be a number')
      .gt(0, 'must be in (0, 100]')
      .lte(100, 'must be in (0, 100]'),
    thresholdPolicy: policyKindOption.optional(),
    targetFpr: targetFprOption.optional(),
    seed: seedNumber.optional(),
    backend: z.enum(['auto', 'cpu', 'wasm', 'tensorflow']),
    profile: z.enum(PROFILE_NAMES),
    save: z.string().min(1).optional(),
    publish: z.boolean(),
    reason: z.string().optional(),
    redis: z.string().optional(),
    brokers: z.string().optional(),
    timeout: positiveInt,
    json: z.boolean(),
    verbose: z.boolean(),
  })
  .superRefine((o, ctx) => {
    if ((o.data === undefined) === (o.topic === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: 'give either --data FILE.csv or --topic NAME --last N',
      });
    }
    if (o.topic !== undefined && o.last === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['last'],
        message: 'required with --topic (how many records to train on)',
      });
    }
    if (o.data !== undefined && o.last !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['last'], message: 'only applies to --topic' });
    }
  });

export type TrainOptions = z.output<typeof TrainOptionsSchema>;

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a detector on a CSV file or on the last N records of a Kafka topic, and publish it')
    .option('--data <file>', 'CSV file with a header row')
    .option('--topic <name>', 'Kafka topic of Avro records (e.g. <pipeline>.records)')
    .option('--last <n>', 'with --topic: how many of its most recent records, across partitions')
    .option('--schema <file>', 'with --topic: reader schema .avsc (default: the bundled transaction schema)')
    .option('--schema-dir <dir>', 'with --topic: writer schemas for Confluent-framed records, as <id>.avsc')
    .option(
      '--schema-registry <url>',
      'with --topic: a Confluent-compatible schema registry for writer schemas',
    )
    .option('--pipeline <name>', 'pipeline whose registry receives the model', 'default')
    .option('--label-column <name>', 'a 0/1 label column, never a feature (ignored when absent)', 'label')
    .option(
      '--features <file>',
      'feature spec JSON (smae init writes one): its columns, kinds, scaling and imputation replace --exclude/--categorical/--scale/--impute',
    )
    .option('--exclude <cols>', 'comma-separated columns that are not features (ids, keys, timestamps)')
    .option('--categorical <cols>', 'comma-separated columns to treat as categorical')
    .option('--scale <kind>', "numeric scaling: minmax, standard or none (default: the profile's, minmax)")
    .option('--impute <policy>', 'missing numeric values: error, mean (training mean) or zero', 'error')
    .option('--epochs <n>', 'training epochs', '30')
    .option('--batch-size <n>', 'rows per training step', '32')
    .option('--learning-rate <x>', 'Adam learning rate (default 0.001)')
    .option(
      '--percentile <p>',
      'the report’s rule: threshold at this percentile of the training rows’ error (without a policy)',
      '95',
    )
    .option(
      '--threshold-policy <kind>',
      `threshold policy fitted on held-out calibration rows: ${POLICY_KINDS.join(', ')} (default ${DEFAULT_POLICY_KIND} with --target-fpr)`,
    )
    .option('--target-fpr <rate>', `false-positive rate the policy aims at (default ${DEFAULT_TARGET_FPR})`)
    .option('--seed <n>', 'seed for initial weights and shuffling (random and recorded if absent)')
    .option('--backend <name>', 'TensorFlow.js backend: auto, cpu, wasm or tensorflow', 'auto')
    .option(
      '--profile <name>',
      "model profile: default (robust ensemble, its own epochs and policy) or report (the report's network; --epochs and --percentile apply)",
      DEFAULT_PROFILE,
    )
    .option('--save <dir>', 'also write the artifact directory here')
    .option('--no-publish', 'do not publish to the registry')
    .option('--reason <text>', 'why this version is published (kept with it)')
    .option('--redis <url>', 'Redis URL (default $REDIS_URL or redis://127.0.0.1:6379)')
    .option('--brokers <list>', 'Kafka brokers host:port,… (default $KAFKA_BROKERS or 127.0.0.1:9092)')
    .option('--timeout <seconds>', 'with --topic: give up reading after this long', '120')
    .option('--json', 'print the result as one JSON object', false)
    .option('--verbose', 'log at info level on stderr (also on a terminal)', false)
    .option(
      '--env-file <file>',
      'read settings (signing key, Redis, Kafka) from this file first (smae init writes DIR/smae.env)',
    )
    .action(async (raw: Record<string, unknown>) => {
      const { envFile, ...rest } = raw;
      if (typeof envFile === 'string') loadEnvFile(envFile);
      const opts = parseOptions(TrainOptionsSchema, rest);
      await protectStdout(() => runTrain(opts));
    });
}

export async function runTrain(opts: TrainOptions): Promise<void> {
  const tty = Boolean(process.stderr.isTTY);
  // On a terminal the bar shows progress and logs would break it; elsewhere the log lines are the progress.
  const logger = createLogger({ service: 'smae-train', level: tty && !opts.verbose ? 'warn' : 'info' });
  const names = pipelineNames(opts.pipeline);

  let redis: Redis | null = null;
  let registry: ModelRegistry | null = null;
  if (opts.publish) {
    const url = opts.redis ?? redisUrlFromEnv(process.env);
    // Checked before training, so a long run is not wasted on an unreachable registry.
    if (!(await pingRedis(url, 2000))) {
      throw new SmaeError(
        'INFRA_UNAVAILABLE',
        `Redis at ${redactUrl(url)} did not answer; start it, point --redis at it, or train with --no-publish --save DIR`,
      );
    }
    redis = createRedis(url, { logger, maxRetriesPerRequest: 3, connectionName: 'smae-train' });
    registry = new ModelRegistry({ redis, pipeline: names.name, logger });
  } else if (!opts.save) {
    logger.warn('neither publishing nor --save: the trained model is discarded (a dry run)');
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error('training interrupted by a signal'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const source = await buildSource(opts, logger);
    const profile = profileSettings(opts.profile);
    const totalEpochs = profile.name === 'report' ? opts.epochs : profile.members * profile.epochs;
    const bar = createProgress(process.stderr, totalEpochs, `train (${profile.name})`);
    let outcome: TrainingOutcome;
    try {
      outcome = await runTraining({
        source,
        pipeline: names.name,
        registry,
        ...trainingOptions({
          ...opts,
          ...(opts.features !== undefined ? { featureSpec: loadFeatureSpecFile(opts.features) } : {}),
        }),
        ...(opts.save ? { saveDir: opts.save } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
        signal: abort.signal,
        logger,
        onStarted: (i) => {
          if (!tty) logger.info(i, 'training started');
          bar.update(0, `${i.rows} rows, ${i.columns} columns, ${i.backend}`);
        },
        onEpoch: (p) => {
          if (tty) bar.update(p.epoch, `loss ${p.loss.toPrecision(5)} ${p.seconds.toFixed(1)}s/epoch`);
          else logger.info({ epoch: p.epoch, epochs: p.epochs, loss: p.loss, seconds: p.seconds }, 'epoch');
        },
      });
    } catch (err) {
      bar.done();
      throw withHint(err);
    }
    bar.done();
    process.stdout.write(opts.json ? `${JSON.stringify(resultJson(outcome))}\n` : formatOutcome(outcome));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await redis?.quit().catch(() => redis?.disconnect());
  }
}

async function buildSource(opts: TrainOptions, logger: Logger): Promise<TrainingSource> {
  if (opts.data !== undefined) return { kind: 'csv', path: opts.data };
  const conn = kafkaConnectionFromEnv(process.env, { clientId: 'smae-train' });
  if (opts.brokers !== undefined) {
    const brokers = opts.brokers
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    if (brokers.length === 0)
      throw new ConfigError('invalid option', [{ path: '--brokers', message: 'no brokers' }]);
    conn.brokers = brokers;
  }
  await checkKafkaTls(conn);
  const readerSchema = loadSchemaFile(opts.schema ?? bundledSchemaPath('transaction'));
  const resolveSchemaId = schemaIdSource({
    schemaRegistryUrl: opts.schemaRegistry,
    schemaIdsDir: opts.schemaDir,
  });
  return {
    kind: 'topic',
    topic: opts.topic!,
    last: opts.last!,
    kafka: createKafkaPort(conn, logger),
    decoder: new RecordDecoder({ readerSchema, ...(resolveSchemaId ? { resolveSchemaId } : {}) }),
    groupPrefix: `${pipelineNames(opts.pipeline).groups.trainer}.replay`,
    timeoutMs: opts.timeout * 1000,
  };
}

function resultJson(o: TrainingOutcome): Record<string, unknown> {
  const m = o.artifact.manifest;
  return {
    pipeline: m.pipeline,
    version: o.published?.version ?? null,
    current: o.published?.promoted ?? false,
    digest: o.artifact.digest,
    savedTo: o.savedTo,
    source: o.source,
    rows: m.training.rows,
    skipped: o.skipped,
    columns: m.preprocessing.columns,
    epochs: m.training.epochs,
    batchSize: m.training.batchSize,
    finalLoss: m.training.finalLoss,
    lossHistory: m.training.lossHistory,
    threshold: m.threshold.value,
    percentile: m.threshold.percentile ?? null,
    thresholdPolicy: m.threshold.policy?.kind ?? 'percentile',
    thresholdReference: m.threshold.reference,
    calibrationRows: m.threshold.reference === 'training' ? 0 : m.threshold.referenceRows,
    seed: m.training.seed,
    backend: m.backend,
    trainingSeconds: m.training.wallSeconds,
    totalSeconds: o.seconds,
  };
}

function formatOutcome(o: TrainingOutcome): string {
  const m = o.artifact.manifest;
  const where = o.published
    ? `published ${m.pipeline} v${o.published.version}${o.published.promoted ? ' (current)' : ' (behind a newer version)'}`
    : 'not published';
  const lines = [
    `${where}${o.savedTo ? `; saved to ${o.savedTo}` : ''}`,
    `  source      ${o.source}${o.skipped ? ` (${o.skipped} undecodable records skipped)` : ''}`,
    `  rows        ${m.training.rows} × ${m.preprocessing.columns.length} columns`,
    `  epochs      ${m.training.epochs} (batch ${m.training.batchSize}), final loss ${m.training.finalLoss.toPrecision(5)}`,
    `  threshold   ${m.threshold.value.toPrecision(6)} (${describeThreshold(m.threshold)})`,
    `  seed        ${m.training.seed}`,
    `  backend     ${m.backend}, ${m.training.wallSeconds.toFixed(1)} s training, ${o.seconds.toFixed(1)} s total`,
    `  digest      ${o.artifact.digest.slice(0, 16)}…`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Adds what to do to the errors a first training run on new data typically meets. */
function withHint(err: unknown): unknown {
  if (!(err instanceof SmaeError)) return err;
  const hint =
    err.code === 'MISSING_FIELD' || err.code === 'NON_FINITE_VALUE'
      ? 'train with --impute mean (or zero), or --exclude the column'
      : err.code === 'WRONG_TYPE'
        ? '--exclude the column, or name it with --categorical'
        : null;
  if (hint === null) return err;
  return new SmaeError(err.code, `${err.message}; ${hint}`, {
    ...(err.field !== undefined ? { field: err.field } : {}),
    ...(err.details !== undefined ? { details: err.details } : {}),
    cause: err,
  });
}
