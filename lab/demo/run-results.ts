/**
 * The demo's results (`runs/<time>/results.json`): detection measured against the labels, model versions
 * and adaptations from the registry and the adapter's ledger, notes on anything that limits the figures.
 */
import type { RedisAdapterState } from '../../shared/adaptation/state.js';
import type { PublishResult } from '../../shared/registry/index.js';
import type { ModelRegistry } from '../../shared/registry/index.js';
import { describeThreshold } from '../../shared/threshold/manifest.js';
import { measure, type Observations } from '../report/evaluate.js';
import {
  parseRunResults,
  RESULTS_FORMAT,
  type AdaptationEntry,
  type LiveSample,
  type ModelVersionEntry,
  type RunResults,
} from '../report/results.js';
import type { CollectorStats } from './collector.js';
import type { DemoOptions } from './options.js';

export interface ResultsInput {
  obs: Observations;
  streamStart: number;
  registry: ModelRegistry;
  adapterState: RedisAdapterState;
  collector: CollectorStats;
  opts: DemoOptions;
  interrupted: boolean;
  adapterRan: boolean;
  published: PublishResult;
  run: { id: string; started: Date; pipeline: string; source: string; trainRecords: number; sent: number };
  trainSeconds: number;
  live: LiveSample[];
}

export async function assembleResults(d: ResultsInput): Promise<RunResults> {
  const { obs, opts, published, run } = d;
  const origin = Number.isNaN(obs.originMs) ? d.streamStart : obs.originMs;
  const versions = await d.registry.list();
  const modelVersions: ModelVersionEntry[] = versions
    .map((v) => ({
      version: v.version,
      parentVersion: v.parentVersion,
      publishedBy: v.publishedBy,
      reason: v.reason,
      publishedAtMs: Date.parse(v.publishedAt) - origin,
      threshold: v.threshold ?? NaN,
    }))
    .filter((v) => Number.isFinite(v.threshold))
    .sort((a, b) => a.version - b.version);
  const outcomes = (await d.adapterState.recentOutcomes(100)).reverse();
  const adaptations: AdaptationEntry[] = outcomes
    .filter((x) => x.status !== 'dry-run')
    .map((x) => ({
      atMs: Date.parse(x.finishedAt) - origin,
      outcome: x.status === 'published' ? 'published' : 'refused',
      version: x.status === 'published' ? x.version : null,
      reason:
        x.status === 'published'
          ? `from v${x.baseVersion}: ${x.figures?.supportRows ?? '?'} support rows, threshold ${fmt(x.figures?.thresholdBefore)} → ${fmt(
              x.figures?.thresholdAfter,
            )}`
          : x.reasons.join(', '),
      details: x.figures ? { ...x.figures } : {},
    }));
  const measured = measure(obs, { windows: opts.windows, deadLetters: d.collector.deadLetters });
  const notes: string[] = [];
  if (d.interrupted) notes.push('The run was interrupted: the figures cover the records sent before Ctrl-C.');
  if (measured.counts.unscored > 0) {
    notes.push(
      `${measured.counts.unscored} sent record(s) had no score when the demo stopped waiting; they are left out of the metrics.`,
    );
  }
  if (d.collector.unmatched > 0)
    notes.push(`${d.collector.unmatched} output(s) named an input the demo did not send.`);
  if (!d.adapterRan) notes.push('No adapter ran: the first model scored the whole stream.');
  if (Object.keys(d.collector.deadLettersByCode).length > 0) {
    notes.push(`Dead letters by code: ${JSON.stringify(d.collector.deadLettersByCode)}.`);
  }
  const m0 = published.artifact.manifest;
  return parseRunResults({
    format: RESULTS_FORMAT,
    run: {
      id: run.id,
      startedAt: run.started.toISOString(),
      endedAt: new Date().toISOString(),
      pipeline: run.pipeline,
      source: run.source,
      seed: opts.seed,
      rate: opts.rate > 0 ? opts.rate : null,
      trainRecords: run.trainRecords,
      streamRecords: run.sent,
      options: { ...opts, delivery: opts.delivery },
    },
    model: {
      initialVersion: published.version,
      threshold: m0.threshold.value,
      percentile: m0.threshold.percentile ?? null,
      thresholdPolicy: describeThreshold(m0.threshold),
      features: m0.preprocessing.spec.features.map((f) => f.name),
      trainSeconds: d.trainSeconds,
      backend: m0.backend,
    },
    ...measured,
    modelVersions,
    adaptations,
    live: d.live,
    notes,
  });
}

function fmt(v: number | null | undefined): string {
  return v === null || v === undefined ? '?' : v.toPrecision(3);
}
