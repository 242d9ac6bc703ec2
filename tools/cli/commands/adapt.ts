/**
 * `smae adapt`: one adaptation cycle of a pipeline, now.
 *
 *   smae adapt --pipeline payments --now            queue a cycle for the adapter service, wait for it
 *   smae adapt --pipeline payments --local          run one cycle in this process (no adapter needed)
 *   smae adapt --pipeline payments --local --dry-run --policy report
 *   smae adapt --pipeline payments --history        the latest cycles' outcomes
 *
 * Either way the cycle is the same as a scheduled one: the pipeline lock, the cycle ledger, the
 * guardrails and the conditional publish apply. `--now` needs a running adapter serving the pipeline
 * (the job waits in its queue otherwise, and this command says so when `--timeout` passes).
 * Option overrides (`--policy`, `--support-size`, `--steps`, `--learning-rate`, `--observe`) apply to
 * this cycle only. stdout carries the outcome (a summary, or JSON with `--json`).
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  resolveAdaptationOptions,
  type AdaptationOverrides,
  type SupportPolicyName,
} from '../../../shared/adaptation/config.js';
import { runAdaptationCycle, type CycleResult } from '../../../shared/adaptation/cycle.js';
import { RedisAdapterState } from '../../../shared/adaptation/state.js';
import type { CycleOutcome } from '../../../shared/adaptation/types.js';
import { SmaeError } from '../../../shared/errors.js';
import { parseOptions, positiveInt, protectStdout } from '../options.js';
import { createLogger, type Logger } from '../../../shared/log.js';
import { initBackend } from '../../../shared/model/index.js';
import * as f from '../../../shared/config/fields.js';
import { createRedis, pingRedis, redactUrl, redisUrlFromEnv } from '../../../shared/redis/client.js';
import {
  ADAPTER_QUEUE,
  cycleDependencies,
  enqueueCycle,
  queueOptions,
  type AdaptJobData,
} from '../../../shared/adaptation/jobs.js';

const pipelineName = f.pipelineName();

const AdaptSchema = z
  .object({
    pipeline: pipelineName,
    now: z.boolean(),
    local: z.boolean(),
    history: z.boolean(),
    dryRun: z.boolean(),
    policy: z.enum(['default', 'report']).optional(),
    supportSize: positiveInt.optional(),
    steps: z.coerce.number('must be a number').int('must be a whole number').min(0, 'must be ≥ 0').optional(),
    learningRate: z.coerce.number('must be a number').positive('must be > 0').optional(),
    observe: z.boolean(),
    cycleId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" or "-" (at most 100)')
      .optional(),
    timeout: positiveInt,
    limit: positiveInt,
    backend: z.enum(['auto', 'cpu', 'wasm', 'tensorflow']),
    redis: z.string().optional(),
    json: z.boolean(),
    verbose: z.boolean(),
  })
  .superRefine((o, ctx) => {
    const modes = [o.now, o.local, o.history].filter(Boolean).length;
    if (modes !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['now'],
        message:
          'give exactly one of --now (queue a cycle for the adapter), --local (run one here), --history',
      });
    }
    if (o.dryRun && o.now) {
      ctx.addIssue({ code: 'custom', path: ['dryRun'], message: 'a dry run runs here: use it with --local' });
    }
  });

type AdaptOptions = z.output<typeof AdaptSchema>;

export function registerAdapt(program: Command): void {
  program
    .command('adapt')
    .description("run one adaptation cycle of a pipeline's model now (or show the latest cycles)")
    .requiredOption('--pipeline <name>', 'pipeline to adapt')
    .option('--now', 'queue a cycle for the adapter service and wait for its outcome', false)
    .option('--local', 'run the cycle in this process (no adapter service needed)', false)
    .option('--history', "show the latest cycles' outcomes", false)
    .option('--dry-run', 'with --local: compute and check, publish nothing', false)
    .option('--policy <name>', 'support-set policy for this cycle: default | report')
    .option('--support-size <n>', 'support rows for this cycle')
    .option('--steps <n>', 'gradient steps for this cycle')
    .option('--learning-rate <lr>', 'Adam learning rate for this cycle')
    .option('--observe', 'compute the guardrails but do not let them refuse (publishes!)', false)
    .option('--cycle-id <id>', 'idempotency key of the cycle (default: a new one)')
    .option('--timeout <seconds>', 'with --now: how long to wait for the outcome', '120')
    .option('--limit <n>', 'with --history: how many cycles', '10')
    .option('--backend <name>', 'with --local: TensorFlow.js backend (auto|cpu|wasm|tensorflow)', 'auto')
    .option('--redis <url>', 'Redis URL (default $REDIS_URL or redis://127.0.0.1:6379)')
    .option('--json', 'machine-readable output', false)
    .option('--verbose', 'log progress on stderr', false)
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseOptions(AdaptSchema, raw);
      await protectStdout(() => runAdapt(opts));
    });
}

async function runAdapt(opts: AdaptOptions): Promise<void> {
  const logger = createLogger({ service: 'smae-adapt', level: opts.verbose ? 'info' : 'warn' });
  const url = opts.redis ?? redisUrlFromEnv(process.env);
  if (!(await pingRedis(url, 2000))) {
    throw new SmaeError(
      'INFRA_UNAVAILABLE',
      `Redis at ${redactUrl(url)} did not answer; check --redis or $REDIS_URL`,
    );
  }
  const redis = createRedis(url, { logger, maxRetriesPerRequest: 2, connectionName: 'smae-adapt' });
  try {
    if (opts.history) return await showHistory(redis, opts);
    const overrides = overridesOf(opts);
    // Validate the overrides here, so a bad value fails now rather than in the adapter.
    resolveAdaptationOptions(overrides);
    const cycleId = opts.cycleId ?? `manual-${randomUUID()}`;
    const result = opts.local
      ? await runLocal(redis, opts, overrides, cycleId, logger)
      : await runQueued(url, opts, overrides, cycleId);
    print(result, opts.json);
    if (result.status === 'refused') process.exitCode = 2;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

function overridesOf(opts: AdaptOptions): AdaptationOverrides {
  const policy: SupportPolicyName = opts.policy ?? 'default';
  const settings = {
    ...(opts.supportSize !== undefined ? { supportSize: opts.supportSize } : {}),
    ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
    ...(opts.learningRate !== undefined ? { learningRate: opts.learningRate } : {}),
  };
  return {
    ...(opts.policy ? { policy } : {}),
    ...(Object.keys(settings).length > 0 ? { [policy]: settings } : {}),
    ...(opts.observe ? { enforce: false } : {}),
  };
}

async function runLocal(
  redis: Redis,
  opts: AdaptOptions,
  overrides: AdaptationOverrides,
  cycleId: string,
  logger: Logger,
): Promise<CycleResult> {
  await initBackend({ prefer: opts.backend, logger });
  return runAdaptationCycle(cycleDependencies({ redis, pipeline: opts.pipeline, logger }), {
    cycleId,
    options: resolveAdaptationOptions(overrides),
    ...(opts.dryRun ? { dryRun: true } : {}),
  });
}

async function runQueued(
  url: string,
  opts: AdaptOptions,
  overrides: AdaptationOverrides,
  cycleId: string,
): Promise<CycleResult> {
  const connection = createRedis(url, { maxRetriesPerRequest: null, connectionName: 'smae-adapt-queue' });
  const queue = new Queue<AdaptJobData, CycleResult>(ADAPTER_QUEUE, {
    connection,
    ...queueOptions(opts.pipeline),
  });
  const eventsConnection = connection.duplicate();
  const events = new QueueEvents(ADAPTER_QUEUE, {
    connection: eventsConnection,
    ...queueOptions(opts.pipeline),
  });
  try {
    await events.waitUntilReady();
    const job = await enqueueCycle(
      queue,
      {
        pipeline: opts.pipeline,
        requestedBy: 'cli',
        ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
      },
      cycleId,
    );
    process.stderr.write(`smae adapt: queued cycle ${job.id} for pipeline ${opts.pipeline}\n`);
    try {
      return (await job.waitUntilFinished(events, opts.timeout * 1000)) as CycleResult;
    } catch (err) {
      const state = await job.getState().catch(() => 'unknown');
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
        throw new SmaeError(
          'INFRA_UNAVAILABLE',
          `cycle ${job.id} is still ${state} after ${opts.timeout}s: is an adapter serving pipeline "${opts.pipeline}" ` +
            `running? (or run one here with --local)`,
        );
      }
      throw new SmaeError('INFRA_UNAVAILABLE', `cycle ${job.id} did not finish: ${(err as Error).message}`, {
        cause: err,
      });
    }
  } finally {
    await events.close();
    await queue.close();
    eventsConnection.disconnect();
    connection.disconnect();
  }
}

async function showHistory(redis: Redis, opts: AdaptOptions): Promise<void> {
  const outcomes = await new RedisAdapterState(redis, opts.pipeline).recentOutcomes(opts.limit);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(outcomes)}\n`);
    return;
  }
  if (outcomes.length === 0) {
    process.stdout.write(`no adaptation cycles recorded for pipeline ${opts.pipeline}\n`);
    return;
  }
  for (const o of outcomes) process.stdout.write(`${line(o)}\n`);
}

function line(o: CycleOutcome): string {
  const f = o.figures;
  const what =
    o.status === 'published'
      ? `published v${o.version} (from v${o.baseVersion})`
      : o.status === 'dry-run'
        ? `dry run on v${o.baseVersion}: ${o.reasons.length === 0 ? 'would publish' : `would refuse (${o.reasons.join(', ')})`}`
        : `refused (${o.reasons.join(', ')}) on v${o.baseVersion ?? '-'}`;
  const figs = f
    ? ` support ${f.supportRows}/${f.windowRows}, flagged ${(100 * f.flaggedShare).toFixed(1)}%, threshold ` +
      `${num(f.thresholdBefore)}→${num(f.thresholdAfter)}, golden recall ${num(f.goldenRecall)}, ` +
      `weight step ${num(f.weightStep)}, drift vs anchor v${f.anchorVersion ?? '-'}: weights ${num(f.weightDrift)}, ` +
      `threshold ${num(f.thresholdDrift)}`
    : '';
  return `${o.finishedAt}  ${o.cycleId}  ${what}${figs ? ';' : ''}${figs}`;
}

function print(result: CycleResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(`${line(result)}${result.duplicate ? '  (already done: recorded outcome)' : ''}\n`);
  const failed = result.checks.filter((c) => !c.passed);
  for (const c of failed) {
    process.stdout.write(
      `  ${c.reason}: ${num(c.value)} ${c.kind === 'max' ? '>' : '<'} bound ${num(c.bound)}\n`,
    );
  }
}

function num(v: number | null): string {
  if (v === null || v === undefined) return '-';
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v);
}
