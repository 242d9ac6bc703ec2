/**
 * The recorded results of one demo run (`runs/<timestamp>/results.json`): what the demo measured, in the
 * shape the report reads. The zod schema is the contract; the types are inferred from it, so a file
 * written by an older or hand-edited run is checked once, with every failing path named, before any
 * chart is drawn.
 *
 * Times on the run's timeline are milliseconds since the first streamed record was sent (`atMs`,
 * `startMs`, …); a model published before the stream started has a negative time.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError, SmaeError } from '../../shared/errors.js';

export const RESULTS_FORMAT = 'smae-run-results/1';
export const RESULTS_FILE = 'results.json';
export const REPORT_FILE = 'report.html';

const count = z.number().int().nonnegative();
const finiteOrNull = z.number().nullable();

/** Classification figures against the injected (or file) labels for one slice of the stream. */
export const SegmentMetricsSchema = z.object({
  records: count,
  anomalies: count,
  flagged: count,
  tp: count,
  fp: count,
  tn: count,
  fn: count,
  f1Macro: z.number(),
  recallMacro: z.number(),
  precisionMacro: z.number(),
  /** Of the anomaly class: flagged rows that are anomalies. */
  precision: z.number(),
  /** Of the anomaly class: anomalies that were flagged. */
  recall: z.number(),
  /** Normal rows flagged, over normal rows. */
  fpr: z.number(),
  rocAuc: finiteOrNull,
});

export const WindowSchema = z.object({
  index: count,
  /** Stream index of the window's first record (training part excluded). */
  firstRecord: count,
  records: count,
  startMs: z.number(),
  endMs: z.number(),
  /** The phase most of the window's records belong to. */
  phase: z.string(),
  anomalies: count,
  flagged: count,
  tp: count,
  fp: count,
  /** Null when the window has no normal rows (or no anomalies, for recall). */
  fpr: finiteOrNull,
  recall: finiteOrNull,
  /** The model version that scored most of the window's records (null if unknown). */
  modelVersion: z.number().int().nullable(),
  /** Records scored per second within the window (by the time their score arrived). */
  scoredPerSecond: finiteOrNull,
  latencyP50Ms: finiteOrNull,
  latencyP99Ms: finiteOrNull,
});

export const ModelVersionSchema = z.object({
  version: z.number().int(),
  parentVersion: z.number().int().nullable(),
  publishedBy: z.string(),
  reason: z.string(),
  publishedAtMs: z.number(),
  threshold: z.number(),
});

export const AdaptationSchema = z.object({
  atMs: z.number(),
  outcome: z.enum(['published', 'refused', 'failed']),
  /** The published version, for a published adaptation. */
  version: z.number().int().nullable(),
  /** Why: the guardrail that refused, or the publish reason. */
  reason: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const HistogramBinSchema = z.object({ lo: z.number(), hi: z.number(), normal: count, anomaly: count });

export const LiveSampleSchema = z.object({
  atMs: z.number(),
  sent: count,
  scored: count,
  flagged: count,
  deadLetters: count,
  consumerLag: z.number().nullable(),
  modelVersion: z.number().int().nullable(),
});

export const RunResultsSchema = z.object({
  format: z.literal(RESULTS_FORMAT),
  run: z.object({
    id: z.string(),
    startedAt: z.string(),
    endedAt: z.string(),
    pipeline: z.string(),
    source: z.string(),
    seed: z.number().int().nullable(),
    /** Target send rate, records per second (null = as fast as possible). */
    rate: z.number().nullable(),
    trainRecords: count,
    streamRecords: count,
    options: z.record(z.string(), z.unknown()),
  }),
  model: z.object({
    initialVersion: z.number().int(),
    threshold: z.number(),
    /** The percentile, for a `percentile` threshold policy. */
    percentile: z.number().nullable(),
    /** The threshold policy, for people (absent in results from before policies). */
    thresholdPolicy: z.string().optional(),
    features: z.array(z.string()),
    trainSeconds: z.number(),
    backend: z.string(),
  }),
  metrics: z.object({
    overall: SegmentMetricsSchema,
    perPhase: z.record(z.string(), SegmentMetricsSchema),
    perVariant: z.record(z.string(), z.object({ anomalies: count, flagged: count, recall: z.number() })),
  }),
  counts: z.object({
    sent: count,
    scored: count,
    flagged: count,
    deadLetters: count,
    /** Streamed records for which no score (nor flag) arrived before the demo stopped waiting. */
    unscored: count,
    /** Flags received more than once for one input offset (should be 0 in exactly-once mode). */
    duplicateFlags: count,
  }),
  throughput: z.object({
    durationSeconds: z.number(),
    sentPerSecond: z.number(),
    scoredPerSecond: z.number(),
  }),
  latencyMs: z.object({
    count,
    mean: finiteOrNull,
    p50: finiteOrNull,
    p90: finiteOrNull,
    p99: finiteOrNull,
    max: finiteOrNull,
  }),
  scores: z.object({
    /** Bins over log10(score). */
    scale: z.literal('log10'),
    bins: z.array(HistogramBinSchema),
  }),
  windows: z.array(WindowSchema),
  modelVersions: z.array(ModelVersionSchema),
  adaptations: z.array(AdaptationSchema),
  live: z.array(LiveSampleSchema),
  notes: z.array(z.string()),
});

export type SegmentMetrics = z.infer<typeof SegmentMetricsSchema>;
export type RunWindow = z.infer<typeof WindowSchema>;
export type ModelVersionEntry = z.infer<typeof ModelVersionSchema>;
export type AdaptationEntry = z.infer<typeof AdaptationSchema>;
export type HistogramBin = z.infer<typeof HistogramBinSchema>;
export type LiveSample = z.infer<typeof LiveSampleSchema>;
export type RunResults = z.infer<typeof RunResultsSchema>;

/** Checks a parsed results object; throws ConfigError naming every failing path. */
export function parseRunResults(value: unknown, source = RESULTS_FILE): RunResults {
  const parsed = RunResultsSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(
      `${source} is not a run results file (${RESULTS_FORMAT})`,
      parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
    );
  }
  return parsed.data;
}

export async function readRunResults(path: string): Promise<RunResults> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new SmaeError('BAD_DATA_FILE', `cannot read ${path}: ${reason}`, { field: path, cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SmaeError('BAD_DATA_FILE', `${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseRunResults(json, path);
}
