/**
 * `smae models`: the operator's view of a pipeline's model registry.
 *
 * - `list`     every kept version, newest first: who published it and why, when, threshold, training
 *              rows, parent, digest prefix, which one is current, and whether its digest verifies;
 * - `show <v>` one version in full (`current` for the current one), verified;
 * - `rollback <v>` publishes a new version with version v's content (history stays linear);
 * - `export <v> <dir>` writes a version as an artifact directory (for `smae score --model`).
 *
 * `--json` prints machine-readable output; errors go to stderr with a non-zero exit code.
 */
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { describeThreshold } from '../../../shared/threshold/manifest.js';
import { ConfigError, SmaeError } from '../../../shared/errors.js';
import { createLogger } from '../../../shared/log.js';
import { saveArtifact } from '../../../shared/model/artifact.js';
import { parseOptions } from '../../../shared/eval/cli.js';
import * as f from '../../../shared/config/fields.js';
import { createRedis, pingRedis, redactUrl, redisUrlFromEnv } from '../../../shared/redis/client.js';
import { ModelRegistry, type PublishedModel, type VersionSummary } from '../../../shared/registry/index.js';

const pipelineName = f.pipelineName();

const CommonSchema = z.object({
  pipeline: pipelineName,
  redis: z.string().optional(),
  json: z.boolean(),
});

const ListSchema = CommonSchema.extend({ verify: z.boolean() });
const RollbackSchema = CommonSchema.extend({ reason: z.string().optional() });

/** The `<version>` argument: a version number, or `current` where allowed. */
function parseVersion(text: string, allowCurrent = true): number | 'current' {
  if (allowCurrent && text === 'current') return 'current';
  if (/^\d+$/.test(text) && Number(text) >= 1) return Number(text);
  throw new ConfigError('invalid argument', [
    {
      path: '<version>',
      message: `"${text}" is not a version number${allowCurrent ? ' or "current"' : ''} (see smae models list)`,
    },
  ]);
}

type Common = z.output<typeof CommonSchema>;

function common(cmd: Command): Command {
  return cmd
    .option('--pipeline <name>', 'pipeline whose registry to use', 'default')
    .option('--redis <url>', 'Redis URL (default $REDIS_URL or redis://127.0.0.1:6379)')
    .option('--json', 'machine-readable output', false);
}

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('list, inspect and roll back published model versions');

  common(models.command('list').description('kept versions, newest first'))
    .option('--no-verify', 'skip reading weights to check every digest')
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseOptions(ListSchema, raw);
      await withRegistry(opts, async (reg) => {
        const list = await reg.list({ verify: opts.verify });
        process.stdout.write(opts.json ? `${JSON.stringify(list)}\n` : formatList(reg.pipeline, list));
      });
    });

  common(
    models.command('show <version>').description('one version in full ("current" for the current one)'),
  ).action(async (version: string, raw: Record<string, unknown>) => {
    const opts = parseOptions(CommonSchema, raw);
    const v = parseVersion(version);
    await withRegistry(opts, async (reg) => {
      const model = await resolve(reg, v);
      const currentVersion = await reg.currentVersion();
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ ...describe(model), current: model.version === currentVersion })}\n`
          : formatShow(model, model.version === currentVersion),
      );
    });
  });

  common(
    models
      .command('rollback <version>')
      .description("publish a new version with an earlier version's content (it becomes current)"),
  )
    .option('--reason <text>', 'why (kept with the new version)')
    .action(async (version: string, raw: Record<string, unknown>) => {
      const opts = parseOptions(RollbackSchema, raw);
      const v = parseVersion(version, false) as number;
      await withRegistry(opts, async (reg) => {
        const published = await reg.rollback(v, opts.reason ?? 'operator rollback');
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ version: published.version, rolledBackTo: v, reason: published.reason, digest: published.artifact.digest })}\n`
            : `rolled back ${reg.pipeline}: v${published.version} is current, with the content of v${v} ` +
                `(replacing v${published.previous})\n`,
        );
      });
    });

  common(
    models.command('export <version> <dir>').description('write a version as an artifact directory'),
  ).action(async (version: string, dir: string, raw: Record<string, unknown>) => {
    const opts = parseOptions(CommonSchema, raw);
    const v = parseVersion(version);
    await withRegistry(opts, async (reg) => {
      const model = await resolve(reg, v);
      await saveArtifact(dir, model.artifact);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ version: model.version, dir, digest: model.artifact.digest })}\n`
          : `wrote ${reg.pipeline} v${model.version} to ${dir}\n`,
      );
    });
  });
}

async function withRegistry(opts: Common, fn: (reg: ModelRegistry) => Promise<void>): Promise<void> {
  const url = opts.redis ?? redisUrlFromEnv(process.env);
  if (!(await pingRedis(url, 2000))) {
    throw new SmaeError(
      'INFRA_UNAVAILABLE',
      `Redis at ${redactUrl(url)} did not answer; check --redis or $REDIS_URL`,
    );
  }
  const logger = createLogger({ service: 'smae-models', level: 'warn' });
  const redis: Redis = createRedis(url, { logger, maxRetriesPerRequest: 2, connectionName: 'smae-models' });
  try {
    await fn(new ModelRegistry({ redis, pipeline: opts.pipeline, logger }));
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

async function resolve(reg: ModelRegistry, v: number | 'current'): Promise<PublishedModel> {
  if (v !== 'current') return reg.get(v);
  const model = await reg.current();
  if (!model) throw new SmaeError('MODEL_NOT_FOUND', `pipeline "${reg.pipeline}" has no published model yet`);
  return model;
}

function describe(m: PublishedModel): Record<string, unknown> {
  const man = m.artifact.manifest;
  return {
    version: m.version,
    publishedBy: m.publishedBy,
    reason: m.reason,
    publishedAt: m.publishedAt,
    previous: m.previous,
    digest: m.artifact.digest,
    integrity: 'ok',
    manifest: man,
    weightBytes: m.artifact.weights.byteLength,
  };
}

function formatList(pipeline: string, list: VersionSummary[]): string {
  if (list.length === 0) return `pipeline "${pipeline}" has no published models\n`;
  const header = [
    '',
    'version',
    'published',
    'by',
    'threshold',
    'policy',
    'rows',
    'parent',
    'digest',
    'integrity',
    'reason',
  ];
  const rows = list.map((s) => [
    s.current ? '*' : '',
    `v${s.version}`,
    s.publishedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    s.publishedBy,
    s.threshold === null ? '-' : s.threshold.toPrecision(5),
    s.thresholdPolicy === 'percentile' && s.percentile !== null
      ? `p${s.percentile}`
      : (s.thresholdPolicy ?? '-'),
    s.trainingRows === null ? '-' : String(s.trainingRows),
    s.parentVersion === null ? '-' : `v${s.parentVersion}`,
    s.digestPrefix,
    s.integrity === 'failed' ? 'FAILED' : s.integrity,
    s.reason,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const failed = list.filter((s) => s.integrity === 'failed');
  const notes = failed.map((s) => `v${s.version}: ${s.problem ?? 'does not verify'}`);
  return `${[line(header), ...rows.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n')}\n`;
}

function formatShow(m: PublishedModel, current: boolean): string {
  const man = m.artifact.manifest;
  const t = man.training;
  const features = man.preprocessing.spec.features.map((f) =>
    f.kind === 'numeric' ? f.name : `${f.name} (categorical)`,
  );
  const lines = [
    `${man.pipeline} v${m.version}${current ? ' (current)' : ''} — digest ${m.artifact.digest} (verified)`,
    `  published     ${m.publishedAt} by ${m.publishedBy}: ${m.reason}`,
    `  lineage       parent ${man.parentVersion === null ? '-' : `v${man.parentVersion}`}, replaced ${m.previous === 0 ? '-' : `v${m.previous}`}`,
    `  created       ${man.createdAt} on ${man.backend}`,
    `  threshold     ${man.threshold.value.toPrecision(6)} (${describeThreshold(man.threshold)})`,
    `  training      ${t.rows} rows from ${t.source}; ${t.epochs} epochs, batch ${t.batchSize}, lr ${t.learningRate}, seed ${t.seed}`,
    `                final loss ${t.finalLoss.toPrecision(5)}, ${t.wallSeconds.toFixed(1)} s`,
    `  features      ${features.join(', ')} (${man.preprocessing.spec.scaler} scaling)`,
    `  network       ${man.architecture.inputDim} → ${man.architecture.layers.map((l) => `${l.units} ${l.activation}`).join(' → ')}, L1 ${man.architecture.l1Activity}`,
  ];
  if (man.adaptation) {
    const a = man.adaptation;
    lines.push(
      `  adaptation    ${a.steps} steps on ${a.supportRows} rows (${a.policy}), loss ${a.lossBefore.toPrecision(4)} → ${a.lossAfter.toPrecision(4)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
