/**
 * From what a run observed (per streamed record: its label, when it was sent, whether and when its score
 * came back, whether it was flagged) to the figures of `results.json`: detection metrics overall, per
 * phase and per injected variant, per-window rates, latency percentiles and the score histogram.
 *
 * Predictions are the flags (what downstream sees), not the scores' own `isAnomaly`. Records with no
 * score and no flag (still in flight when the run stopped waiting, or dead-lettered) are left out of the
 * metrics and counted instead.
 */
import { binaryMetrics, rocAuc } from '../eval/metrics.js';
import { percentile } from '../../shared/threshold/percentile.js';
import type { HistogramBin, RunResults, RunWindow, SegmentMetrics } from './results.js';

/** Column-wise observations of the streamed records, indexed by stream position (training part excluded). */
export interface Observations {
  /** Phase names; `phase[i]` indexes into it. */
  phaseNames: readonly string[];
  count: number;
  label: Uint8Array;
  phase: Uint8Array;
  /** 0 = none, 1 = variant A, 2 = variant B. */
  variant: Uint8Array;
  /** Epoch ms when the record was handed to the producer (NaN if never sent). */
  sentAt: Float64Array;
  /** Epoch ms when its score became visible to a read_committed consumer (NaN if never). */
  scoredAt: Float64Array;
  score: Float64Array;
  /** Model version that scored it (-1 unknown). */
  version: Int32Array;
  flagged: Uint8Array;
  deadLettered: Uint8Array;
  /** Flags received more than once for one input offset. */
  duplicateFlags: number;
  /** Epoch ms of the first send: the origin of the run's timeline. */
  originMs: number;
}

export function createObservations(count: number, phaseNames: readonly string[]): Observations {
  return {
    phaseNames,
    count,
    label: new Uint8Array(count),
    phase: new Uint8Array(count),
    variant: new Uint8Array(count),
    sentAt: new Float64Array(count).fill(NaN),
    scoredAt: new Float64Array(count).fill(NaN),
    score: new Float64Array(count).fill(NaN),
    version: new Int32Array(count).fill(-1),
    flagged: new Uint8Array(count),
    deadLettered: new Uint8Array(count),
    duplicateFlags: 0,
    originMs: NaN,
  };
}

/** The project's numpy percentile, or null for no values (a report shows "–"). */
function percentileOrNull(values: ArrayLike<number>, p: number): number | null {
  return values.length === 0 ? null : percentile(values, p);
}

function evaluated(o: Observations, i: number): boolean {
  return !Number.isNaN(o.scoredAt[i]!) || o.flagged[i] === 1;
}

/** Metrics for the records of `indices` that were evaluated. */
export function segmentMetrics(o: Observations, indices: Iterable<number>): SegmentMetrics {
  const labels: number[] = [];
  const predicted: number[] = [];
  const scores: number[] = [];
  let allScored = true;
  for (const i of indices) {
    if (!evaluated(o, i)) continue;
    labels.push(o.label[i]!);
    predicted.push(o.flagged[i]!);
    const s = o.score[i]!;
    if (Number.isNaN(s)) allScored = false;
    scores.push(s);
  }
  const m = binaryMetrics(labels, predicted);
  const c = m.confusion;
  const negatives = c.tn + c.fp;
  return {
    records: labels.length,
    anomalies: c.tp + c.fn,
    flagged: c.tp + c.fp,
    tp: c.tp,
    fp: c.fp,
    tn: c.tn,
    fn: c.fn,
    f1Macro: m.f1Macro,
    recallMacro: m.recallMacro,
    precisionMacro: m.precisionMacro,
    precision: m.perClass.anomaly.precision,
    recall: m.perClass.anomaly.recall,
    fpr: negatives === 0 ? 0 : c.fp / negatives,
    rocAuc: allScored && labels.length > 0 ? rocAuc(labels, scores) : null,
  };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** Splits the stream into `count` windows of consecutive records and measures each. */
export function windowsOf(o: Observations, count: number): RunWindow[] {
  const n = o.count;
  const k = Math.max(1, Math.min(count, n));
  const out: RunWindow[] = [];
  for (let w = 0; w < k && n > 0; w++) {
    const from = Math.floor((w * n) / k);
    const to = Math.floor(((w + 1) * n) / k);
    const phaseCounts = new Map<number, number>();
    const versionCounts = new Map<number, number>();
    let anomalies = 0;
    let flagged = 0;
    let tp = 0;
    let fp = 0;
    let negatives = 0;
    let firstSent = Infinity;
    let lastSent = -Infinity;
    let firstScored = Infinity;
    let lastScored = -Infinity;
    let scored = 0;
    const latencies: number[] = [];
    for (let i = from; i < to; i++) {
      phaseCounts.set(o.phase[i]!, (phaseCounts.get(o.phase[i]!) ?? 0) + 1);
      const sent = o.sentAt[i]!;
      if (!Number.isNaN(sent)) {
        firstSent = Math.min(firstSent, sent);
        lastSent = Math.max(lastSent, sent);
      }
      const at = o.scoredAt[i]!;
      if (!Number.isNaN(at)) {
        scored++;
        firstScored = Math.min(firstScored, at);
        lastScored = Math.max(lastScored, at);
        if (!Number.isNaN(sent)) latencies.push(at - sent);
        if (o.version[i]! >= 0) versionCounts.set(o.version[i]!, (versionCounts.get(o.version[i]!) ?? 0) + 1);
      }
      if (!evaluated(o, i)) continue;
      const y = o.label[i]!;
      const p = o.flagged[i]!;
      if (y) anomalies++;
      else negatives++;
      if (p) {
        flagged++;
        if (y) tp++;
        else fp++;
      }
    }
    latencies.sort((a, b) => a - b);
    const span = (lastScored - firstScored) / 1000;
    out.push({
      index: w,
      firstRecord: from,
      records: to - from,
      startMs: Number.isFinite(firstSent) ? firstSent - o.originMs : 0,
      endMs: Number.isFinite(lastSent) ? lastSent - o.originMs : 0,
      phase: o.phaseNames[mode(phaseCounts) ?? 0] ?? 'unknown',
      anomalies,
      flagged,
      tp,
      fp,
      fpr: negatives === 0 ? null : fp / negatives,
      recall: anomalies === 0 ? null : tp / anomalies,
      modelVersion: mode(versionCounts),
      scoredPerSecond: scored > 1 && span > 0 ? (scored - 1) / span : null,
      latencyP50Ms: percentileOrNull(latencies, 50),
      latencyP99Ms: percentileOrNull(latencies, 99),
    });
  }
  return out;
}

function mode(counts: Map<number, number>): number | null {
  let best: number | null = null;
  let bestCount = -1;
  for (const [v, c] of counts) {
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/** Histogram of log10(score) for normal and anomalous records (`bins` equal-width bins). */
export function scoreHistogram(o: Observations, bins = 48): HistogramBin[] {
  const logs: number[] = [];
  for (let i = 0; i < o.count; i++) {
    const s = o.score[i]!;
    if (s > 0 && Number.isFinite(s)) logs.push(Math.log10(s));
  }
  if (logs.length === 0) return [];
  const sorted = [...logs].sort((a, b) => a - b);
  // Robust ends: a handful of extreme scores should not squeeze the rest into a few bins.
  const lo = Math.floor(percentileOrNull(sorted, 0.05)! * 4) / 4;
  const hi = Math.ceil(percentileOrNull(sorted, 99.95)! * 4) / 4 || lo + 1;
  const width = (hi > lo ? hi - lo : 1) / bins;
  const out: HistogramBin[] = Array.from({ length: bins }, (_, k) => ({
    lo: lo + k * width,
    hi: lo + (k + 1) * width,
    normal: 0,
    anomaly: 0,
  }));
  for (let i = 0; i < o.count; i++) {
    const s = o.score[i]!;
    if (!(s > 0 && Number.isFinite(s))) continue;
    const k = Math.min(bins - 1, Math.max(0, Math.floor((Math.log10(s) - lo) / width)));
    if (o.label[i]) out[k]!.anomaly++;
    else out[k]!.normal++;
  }
  return out;
}

export interface Measured {
  metrics: RunResults['metrics'];
  counts: RunResults['counts'];
  throughput: RunResults['throughput'];
  latencyMs: RunResults['latencyMs'];
  scores: RunResults['scores'];
  windows: RunWindow[];
}

/** Everything `results.json` holds that comes from the observations alone. */
export function measure(o: Observations, opts: { windows?: number; deadLetters?: number } = {}): Measured {
  const all = range(0, o.count);
  const byPhase = new Map<string, number[]>();
  const variants: Record<string, { anomalies: number; flagged: number; recall: number }> = {};
  const latencies: number[] = [];
  let sent = 0;
  let scored = 0;
  let flagged = 0;
  let unscored = 0;
  let firstSent = Infinity;
  let lastSent = -Infinity;
  let firstScored = Infinity;
  let lastScored = -Infinity;
  for (let i = 0; i < o.count; i++) {
    const name = o.phaseNames[o.phase[i]!] ?? 'unknown';
    let list = byPhase.get(name);
    if (!list) byPhase.set(name, (list = []));
    list.push(i);
    const sentAt = o.sentAt[i]!;
    if (!Number.isNaN(sentAt)) {
      sent++;
      firstSent = Math.min(firstSent, sentAt);
      lastSent = Math.max(lastSent, sentAt);
    }
    const at = o.scoredAt[i]!;
    if (!Number.isNaN(at)) {
      scored++;
      firstScored = Math.min(firstScored, at);
      lastScored = Math.max(lastScored, at);
      if (!Number.isNaN(sentAt)) latencies.push(at - sentAt);
    }
    if (o.flagged[i]) flagged++;
    if (!Number.isNaN(sentAt) && !evaluated(o, i) && !o.deadLettered[i]) unscored++;
    if (o.variant[i] && evaluated(o, i)) {
      const v = (variants[o.variant[i] === 1 ? 'A' : 'B'] ??= { anomalies: 0, flagged: 0, recall: 0 });
      v.anomalies++;
      if (o.flagged[i]) v.flagged++;
    }
  }
  for (const v of Object.values(variants)) v.recall = v.anomalies === 0 ? 0 : v.flagged / v.anomalies;
  latencies.sort((a, b) => a - b);
  const perPhase: Record<string, SegmentMetrics> = {};
  for (const [name, idx] of byPhase) perPhase[name] = segmentMetrics(o, idx);
  const sendSpan = (lastSent - firstSent) / 1000;
  const end = Math.max(lastScored, lastSent);
  const duration = Number.isFinite(end) && Number.isFinite(firstSent) ? (end - firstSent) / 1000 : 0;
  const scoreSpan = (lastScored - firstSent) / 1000;
  return {
    metrics: { overall: segmentMetrics(o, all), perPhase, perVariant: variants },
    counts: {
      sent,
      scored,
      flagged,
      deadLetters: opts.deadLetters ?? countOf(o.deadLettered),
      unscored,
      duplicateFlags: o.duplicateFlags,
    },
    throughput: {
      durationSeconds: duration,
      sentPerSecond: sendSpan > 0 ? (sent - 1) / sendSpan : 0,
      scoredPerSecond: scoreSpan > 0 ? scored / scoreSpan : 0,
    },
    latencyMs: {
      count: latencies.length,
      mean: latencies.length === 0 ? null : latencies.reduce((a, b) => a + b, 0) / latencies.length,
      p50: percentileOrNull(latencies, 50),
      p90: percentileOrNull(latencies, 90),
      p99: percentileOrNull(latencies, 99),
      max: latencies.length === 0 ? null : latencies[latencies.length - 1]!,
    },
    scores: { scale: 'log10', bins: scoreHistogram(o) },
    windows: windowsOf(o, opts.windows ?? 40),
  };
}

function countOf(a: Uint8Array): number {
  let n = 0;
  for (const v of a) n += v;
  return n;
}
