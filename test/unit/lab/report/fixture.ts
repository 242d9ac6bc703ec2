/**
 * A plausible run's results, built deterministically, for the report's tests (unit and browser).
 */
import { RESULTS_FORMAT, type RunResults, type SegmentMetrics } from '../../../../lab/report/results.js';

function segment(records: number, anomalies: number, tp: number, fp: number): SegmentMetrics {
  const fn = anomalies - tp;
  const tn = records - anomalies - fp;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = anomalies === 0 ? 0 : tp / anomalies;
  const nPrecision = tn + fn === 0 ? 0 : tn / (tn + fn);
  const nRecall = tn / (tn + fp);
  const f1 = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));
  return {
    records,
    anomalies,
    flagged: tp + fp,
    tp,
    fp,
    tn,
    fn,
    f1Macro: (f1(precision, recall) + f1(nPrecision, nRecall)) / 2,
    recallMacro: (recall + nRecall) / 2,
    precisionMacro: (precision + nPrecision) / 2,
    precision,
    recall,
    fpr: fp / (records - anomalies),
    rocAuc: 0.99,
  };
}

export function fixtureResults(overrides: Partial<RunResults> = {}): RunResults {
  const windows: RunResults['windows'] = [];
  const phases = ['stable', 'abrupt', 'gradual'];
  for (let i = 0; i < 30; i++) {
    const phase = phases[Math.floor(i / 10)]!;
    const records = 400;
    const anomalies = 18 + (i % 5);
    const tp = anomalies - (i % 3);
    const fpr = phase === 'abrupt' ? (i < 14 ? 0.12 : 0.02) : 0.01 + (i % 4) * 0.004;
    const fp = Math.round(fpr * (records - anomalies));
    windows.push({
      index: i,
      firstRecord: i * records,
      records,
      startMs: i * 2000,
      endMs: (i + 1) * 2000,
      phase,
      anomalies,
      flagged: tp + fp,
      tp,
      fp,
      fpr: fp / (records - anomalies),
      recall: tp / anomalies,
      modelVersion: i < 14 ? 1 : i < 24 ? 2 : 3,
      scoredPerSecond: 190 + (i % 7) * 3,
      latencyP50Ms: 40 + (i % 5),
      latencyP99Ms: 120 + (i % 9) * 7,
    });
  }
  const bins: RunResults['scores']['bins'] = [];
  for (let k = 0; k < 40; k++) {
    const lo = -3 + k * 0.125;
    const centreNormal = 12 - k;
    const centreAnomaly = k - 26;
    bins.push({
      lo,
      hi: lo + 0.125,
      normal: Math.max(0, Math.round(1400 * Math.exp(-(centreNormal * centreNormal) / 18))),
      anomaly: Math.max(0, Math.round(90 * Math.exp(-(centreAnomaly * centreAnomaly) / 30))),
    });
  }
  const base: RunResults = {
    format: RESULTS_FORMAT,
    run: {
      id: '2024-01-01T00-00-00Z',
      startedAt: '2024-01-01T00:00:00.000Z',
      endedAt: '2024-01-01T00:01:10.000Z',
      pipeline: 'demo-fixture',
      source: 'generator(seed=42, anomalies=0.05, drift=1)',
      seed: 42,
      rate: 200,
      trainRecords: 6000,
      streamRecords: 12000,
      options: { rate: 200 },
    },
    model: {
      initialVersion: 1,
      threshold: 0.0123,
      percentile: 99,
      features: ['amount', 'latency_ms', 'cpu_pct', 'bytes_out', 'requests', 'region'],
      trainSeconds: 14.2,
      backend: 'cpu',
    },
    metrics: {
      overall: segment(12000, 600, 570, 170),
      perPhase: {
        stable: segment(4000, 200, 190, 40),
        abrupt: segment(4000, 200, 192, 90),
        gradual: segment(4000, 200, 188, 40),
      },
      perVariant: {
        A: { anomalies: 300, flagged: 280, recall: 280 / 300 },
        B: { anomalies: 300, flagged: 290, recall: 290 / 300 },
      },
    },
    counts: { sent: 12000, scored: 12000, flagged: 740, deadLetters: 0, unscored: 0, duplicateFlags: 0 },
    throughput: { durationSeconds: 60, sentPerSecond: 200, scoredPerSecond: 199.5 },
    latencyMs: { count: 12000, mean: 52, p50: 42, p90: 80, p99: 151, max: 420 },
    scores: { scale: 'log10', bins },
    windows,
    modelVersions: [
      {
        version: 1,
        parentVersion: null,
        publishedBy: 'trainer',
        reason: 'demo: initial model',
        publishedAtMs: -5000,
        threshold: 0.0123,
      },
      {
        version: 2,
        parentVersion: 1,
        publishedBy: 'adapter',
        reason: 'scheduled adaptation',
        publishedAtMs: 27500,
        threshold: 0.0178,
      },
      {
        version: 3,
        parentVersion: 2,
        publishedBy: 'adapter',
        reason: 'scheduled adaptation',
        publishedAtMs: 47500,
        threshold: 0.0201,
      },
    ],
    adaptations: [
      { atMs: 21000, outcome: 'refused', version: null, reason: 'flagged share 0.14 > 0.1' },
      { atMs: 27500, outcome: 'published', version: 2, reason: 'scheduled adaptation' },
      { atMs: 47500, outcome: 'published', version: 3, reason: 'scheduled adaptation' },
    ],
    live: Array.from({ length: 61 }, (_, i) => ({
      atMs: i * 1000,
      sent: i * 200,
      scored: Math.max(0, i * 200 - 50),
      flagged: Math.round(i * 12.3),
      deadLetters: 0,
      consumerLag: 50,
      modelVersion: i < 28 ? 1 : i < 48 ? 2 : 3,
    })),
    notes: ['fixture <data> & "quotes" are escaped'],
  };
  return { ...base, ...overrides };
}
