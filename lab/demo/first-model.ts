/**
 * The demo's first model: trained on the stream's training part in a worker thread (the trainer core),
 * with the demo's options, and published to the registry as the pipeline's first version.
 */
import type { Logger } from '../../shared/log.js';
import type { ModelRegistry, PublishResult } from '../../shared/registry/index.js';
import { describeThreshold } from '../../shared/threshold/manifest.js';
import { specFromChoice } from '../../shared/threshold/policy.js';
import type { TrainingRow } from '../../shared/training/rows.js';
import { trainInWorker } from '../../shared/training/run-worker.js';
import type { EventSource } from '../generator/index.js';
import type { DemoOptions } from './options.js';

export async function trainFirstModel(d: {
  source: EventSource;
  opts: DemoOptions;
  pipeline: string;
  registry: ModelRegistry;
  logger: Logger;
  signal: AbortSignal;
  say(line: string): void;
}): Promise<{ rows: TrainingRow[]; published: PublishResult; trainSeconds: number }> {
  const { source, opts, pipeline, logger, say } = d;
  const rows = await trainingRows(source);
  const numeric = source.features.filter((f) => f.kind === 'numeric').map((f) => f.name);
  const categorical = source.features.filter((f) => f.kind === 'categorical').map((f) => f.name);
  say(
    `training on ${rows.length} records (${opts.epochs} epochs, features ${[...numeric, ...categorical].join(', ')})…`,
  );
  const threshold = specFromChoice(opts);
  const t0 = performance.now();
  let lastEpochLine = 0;
  const artifact = await trainInWorker(
    {
      rows,
      columns: [...numeric, ...categorical],
      numeric,
      categorical,
      source: source.description,
      pipeline,
      epochs: opts.epochs,
      seed: opts.seed,
      percentile: opts.percentile,
      ...(threshold !== undefined ? { threshold } : {}),
      backend: opts.backend,
      profile: opts.profile,
    },
    {
      logger,
      signal: d.signal,
      onEpoch: (p) => {
        if (Date.now() - lastEpochLine > 3000 || p.epoch === p.epochs) {
          lastEpochLine = Date.now();
          say(`  epoch ${p.epoch}/${p.epochs}, loss ${p.loss.toPrecision(4)}`);
        }
      },
    },
  );
  const trainSeconds = (performance.now() - t0) / 1000;
  const published = await d.registry.publish(artifact, {
    publishedBy: 'trainer',
    reason: `demo: initial model on ${rows.length} records`,
    expectedParent: null,
  });
  const m = published.artifact.manifest;
  say(
    `model v${published.version} published: threshold ${m.threshold.value.toPrecision(4)} ` +
      `(${describeThreshold(m.threshold)}), trained in ${trainSeconds.toFixed(1)} s on ${m.backend}`,
  );
  return { rows, published, trainSeconds };
}

async function trainingRows(source: EventSource): Promise<TrainingRow[]> {
  const names = source.features.map((f) => f.name);
  const rows: TrainingRow[] = [];
  for await (const e of source.events()) {
    if (e.phase !== 'train') break;
    const row: TrainingRow = {};
    for (const n of names) row[n] = e.record[n] as number | string;
    rows.push(row);
  }
  return rows;
}
