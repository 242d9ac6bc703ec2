/**
 * The demo's closing summary, as printed: detection against the labels (overall, per phase, per
 * variant), throughput, latency, the model history and the adaptation outcomes, then where the
 * results and the report are.
 */
import type { RunResults, SegmentMetrics } from '../report/results.js';

function pct(v: number | null, digits = 1): string {
  return v === null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;
}

function ms(v: number | null): string {
  return v === null ? '–' : `${Math.round(v)} ms`;
}

function row(name: string, m: SegmentMetrics): string {
  return [
    name.padEnd(10),
    String(m.records).padStart(8),
    String(m.anomalies).padStart(9),
    String(m.flagged).padStart(8),
    pct(m.precision).padStart(10),
    pct(m.recall).padStart(8),
    pct(m.fpr, 2).padStart(7),
    m.f1Macro.toFixed(4).padStart(9),
    m.recallMacro.toFixed(4).padStart(13),
    (m.rocAuc === null ? '–' : m.rocAuc.toFixed(4)).padStart(8),
  ].join(' ');
}

export function formatSummary(r: RunResults, paths: { resultsPath: string; reportPath: string }): string {
  const lines: string[] = [];
  const rate = r.run.rate === null ? 'as fast as possible' : `at ${r.run.rate} records/s`;
  lines.push('');
  lines.push(`SparseMetaAE demo · pipeline ${r.run.pipeline} · ${r.counts.sent} records streamed ${rate}`);
  lines.push(`source: ${r.run.source}`);
  lines.push('');
  lines.push('detection: flags against the labels (injected anomalies, or the file’s own labels)');
  lines.push(
    `${'slice'.padEnd(10)} ${'records'.padStart(8)} ${'anomalies'.padStart(9)} ${'flagged'.padStart(8)} ${'precision'.padStart(10)} ${'recall'.padStart(8)} ${'FPR'.padStart(7)} ${'F1-macro'.padStart(9)} ${'recall-macro'.padStart(13)} ${'ROC-AUC'.padStart(8)}`,
  );
  lines.push(row('all', r.metrics.overall));
  for (const [name, m] of Object.entries(r.metrics.perPhase)) lines.push(row(name, m));
  const variants = Object.entries(r.metrics.perVariant)
    .map(([v, x]) => `variant ${v} ${x.flagged}/${x.anomalies} (${pct(x.recall)})`)
    .join(', ');
  if (variants) lines.push(`recall by injected variant: ${variants}`);
  const target = (r.run.options as { targetFpr?: unknown }).targetFpr;
  lines.push(
    `threshold of v${r.model.initialVersion}: ${r.model.thresholdPolicy ?? `p${r.model.percentile} of training scores`}` +
      (typeof target === 'number'
        ? ` (target FPR ${pct(target, 2)}, measured ${pct(r.metrics.overall.fpr, 2)})`
        : ''),
  );
  lines.push('');
  lines.push(
    `throughput: ${r.throughput.scoredPerSecond.toFixed(0)} records/s scored, ${r.throughput.sentPerSecond.toFixed(0)} sent/s, over ${r.throughput.durationSeconds.toFixed(1)} s`,
  );
  const l = r.latencyMs;
  lines.push(
    `latency (record produced → score visible, read_committed): p50 ${ms(l.p50)}, p90 ${ms(l.p90)}, p99 ${ms(l.p99)}, max ${ms(l.max)}`,
  );
  lines.push(
    `counts: ${r.counts.scored} scored, ${r.counts.flagged} flagged, ${r.counts.deadLetters} dead letters, ${r.counts.duplicateFlags} duplicate flags, ${r.counts.unscored} unscored`,
  );
  lines.push('');
  lines.push('model versions:');
  for (const v of r.modelVersions) {
    const at = v.publishedAtMs < 0 ? 'before the stream' : `at ${(v.publishedAtMs / 1000).toFixed(1)} s`;
    lines.push(
      `  v${v.version} by ${v.publishedBy} ${at}, threshold ${v.threshold.toPrecision(4)}${v.parentVersion ? ` (from v${v.parentVersion})` : ''}`,
    );
  }
  const published = r.adaptations.filter((a) => a.outcome === 'published').length;
  const refused = r.adaptations.filter((a) => a.outcome === 'refused');
  lines.push(`adaptations: ${published} published, ${refused.length} refused`);
  for (const a of r.adaptations) {
    lines.push(
      `  ${(a.atMs / 1000).toFixed(1).padStart(6)} s  ${a.outcome.padEnd(9)} ${a.version !== null ? `v${a.version} ` : ''}${a.reason}`,
    );
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push('');
  lines.push(`results: ${paths.resultsPath}`);
  lines.push(`report:  ${paths.reportPath}`);
  lines.push('');
  return lines.join('\n');
}
