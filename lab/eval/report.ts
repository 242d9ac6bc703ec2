/**
 * Turning trial results into what `smae eval` prints: one JSON object for scripts (metrics at the top
 * level — the mean when several seeds ran — with the standard deviation, per-run figures and the
 * options beside them), or a table for people.
 */
import type { Confusion } from './metrics.js';
import { meanStd } from './metrics.js';
import type { PreparedExperiment, TrialResult } from './experiment.js';

export const SUMMARY_METRICS = [
  'f1Macro',
  'recallMacro',
  'precisionMacro',
  'rocAuc',
  'flaggedShare',
  'fpr',
  'threshold',
  'trainSeconds',
] as const;
export type SummaryMetric = (typeof SUMMARY_METRICS)[number];

export interface EvalSummary {
  dataset: string;
  protocol: string;
  backend: string;
  seeds: number[];
  /** Means over seeds (the single run's figures with one seed). `rocAuc` is null with one class only. */
  f1Macro: number;
  recallMacro: number;
  precisionMacro: number;
  rocAuc: number | null;
  flaggedShare: number;
  /** False-positive rate on the test part's normal rows. */
  fpr: number;
  threshold: number;
  /** The first run's threshold policy, for people (`conformal α=0.01 over 6874 held-out calibration scores`). */
  thresholdPolicy: string;
  trainSeconds: number;
  /** Sample standard deviations over seeds (0 with one seed). */
  std: Record<SummaryMetric, number | null>;
  /** The single run's confusion matrix, or the mean counts over seeds. */
  confusion: Confusion;
  rows: {
    total: number;
    train: number;
    test: number;
    testAnomalies: number;
    injected: number;
    features: number;
  };
  options: Record<string, unknown>;
  runs: RunSummary[];
}

export interface RunSummary {
  seed: number;
  f1Macro: number;
  recallMacro: number;
  precisionMacro: number;
  rocAuc: number | null;
  flaggedShare: number;
  fpr: number;
  threshold: number;
  trainSeconds: number;
  finalLoss: number;
  confusion: Confusion;
  adaptation: TrialResult['adaptation'];
}

export function protocolLabel(prep: Pick<PreparedExperiment, 'protocol'>): string {
  return prep.protocol.kind === 'inject' ? `inject ${prep.protocol.variant}` : 'real labels';
}

export function summarize(
  prep: PreparedExperiment,
  results: readonly TrialResult[],
  options: Record<string, unknown>,
): EvalSummary {
  if (results.length === 0) throw new RangeError('no results to summarize');
  const runs: RunSummary[] = results.map((r) => ({
    seed: r.seed,
    f1Macro: r.f1Macro,
    recallMacro: r.recallMacro,
    precisionMacro: r.precisionMacro,
    rocAuc: r.rocAuc,
    flaggedShare: r.flaggedShare,
    fpr: r.fpr,
    threshold: r.threshold,
    trainSeconds: r.trainSeconds,
    finalLoss: r.finalLoss,
    confusion: r.confusion,
    adaptation: r.adaptation,
  }));
  const mean = {} as Record<SummaryMetric, number | null>;
  const std = {} as Record<SummaryMetric, number | null>;
  for (const k of SUMMARY_METRICS) {
    const vals = runs.map((r) => r[k]);
    if (vals.some((v) => v === null)) {
      mean[k] = null;
      std[k] = null;
    } else {
      const s = meanStd(vals as number[]);
      mean[k] = s.mean;
      std[k] = s.std;
    }
  }
  const confusion: Confusion =
    runs.length === 1
      ? runs[0]!.confusion
      : (Object.fromEntries(
          (['tn', 'fp', 'fn', 'tp'] as const).map((k) => [
            k,
            runs.reduce((s, r) => s + r.confusion[k], 0) / runs.length,
          ]),
        ) as unknown as Confusion);
  const testAnomalies = prep.testLabels.reduce((s, v) => s + v, 0);
  return {
    dataset: prep.dataset,
    protocol: protocolLabel(prep),
    backend: results[0]!.backend,
    seeds: runs.map((r) => r.seed),
    f1Macro: mean.f1Macro!,
    recallMacro: mean.recallMacro!,
    precisionMacro: mean.precisionMacro!,
    rocAuc: mean.rocAuc,
    flaggedShare: mean.flaggedShare!,
    fpr: mean.fpr!,
    threshold: mean.threshold!,
    thresholdPolicy: results[0]!.policy.describe(),
    trainSeconds: mean.trainSeconds!,
    std,
    confusion,
    rows: {
      total: prep.trainRows + prep.testRows,
      train: prep.trainRows,
      test: prep.testRows,
      testAnomalies,
      injected: prep.injectedRows,
      features: prep.width,
    },
    options,
    runs,
  };
}

const fmt = (v: number | null, digits = 4): string =>
  v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);

/** A plain-text report: header, one line per seed, mean ± std when several, the confusion matrix. */
export function formatTable(s: EvalSummary): string {
  const o = s.options;
  const lines: string[] = [];
  lines.push(
    o.profile !== undefined && o.profile !== 'report'
      ? `${s.dataset}: ${s.protocol}, profile ${String(o.profile)}, scale ${String(o.scale)}, ` +
          `up to ${String(o.epochs)} epochs per member, no adaptation, ` +
          `threshold ${typeof o.percentile === 'number' ? `p${o.percentile}` : `${String(o.percentile)} policy ${JSON.stringify((o.threshold as { params?: unknown } | undefined)?.params ?? {})}`} ` +
          `on held-out calibration scores, backend ${s.backend}`
      : `${s.dataset}: ${s.protocol}, ${o.profile === 'report' ? 'profile report, ' : ''}scale ${String(o.scale)}, ` +
          `${String(o.epochs)} epochs, ` +
          `${o.adapt ? `adapted on ${String(o.supportRows)} test rows` : 'no adaptation'}, ` +
          `threshold ${s.thresholdPolicy}, backend ${s.backend}`,
  );
  lines.push(
    `rows: ${s.rows.total} (train ${s.rows.train}, test ${s.rows.test} with ${s.rows.testAnomalies} anomalies` +
      `${s.rows.injected ? ', injected' : ''}), ${s.rows.features} model columns`,
  );
  lines.push('');
  const head = [
    '',
    'F1-macro',
    'recall-macro',
    'precision-macro',
    'ROC-AUC',
    'flagged',
    'FPR',
    'threshold',
    'train s',
  ];
  const table: string[][] = [head];
  for (const r of s.runs) {
    table.push([
      `seed ${r.seed}`,
      fmt(r.f1Macro),
      fmt(r.recallMacro),
      fmt(r.precisionMacro),
      fmt(r.rocAuc),
      fmt(r.flaggedShare, 3),
      fmt(r.fpr, 4),
      r.threshold.toPrecision(4),
      r.trainSeconds.toFixed(1),
    ]);
  }
  if (s.runs.length > 1) {
    const pm = (k: SummaryMetric, d = 4) => `${fmt(s[k], d)} ± ${fmt(s.std[k], d)}`;
    table.push([
      'mean ± std',
      pm('f1Macro'),
      pm('recallMacro'),
      pm('precisionMacro'),
      pm('rocAuc'),
      pm('flaggedShare', 3),
      pm('fpr', 4),
      s.threshold.toPrecision(4),
      s.trainSeconds.toFixed(1),
    ]);
  }
  const widths = head.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table)
    lines.push(
      row
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd(),
    );
  lines.push('');
  const c = s.confusion;
  const n = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  lines.push(
    `confusion${s.runs.length > 1 ? ' (mean over seeds)' : ''}:   predicted normal   predicted anomaly`,
  );
  lines.push(`  actual normal    ${n(c.tn).padStart(16)}   ${n(c.fp).padStart(17)}`);
  lines.push(`  actual anomaly   ${n(c.fn).padStart(16)}   ${n(c.tp).padStart(17)}`);
  return lines.join('\n');
}
