/**
 * The run report: one self-contained HTML page built from a run's `results.json`.
 *
 * Everything is inline (CSS, SVG charts); the page loads nothing, runs no script and needs no network, so
 * it can be mailed, archived with the run, or opened from a CI artifact. Sections: headline figures;
 * per-phase and per-variant detection; the score distribution with the threshold(s); flags over time
 * against the true anomalies; false-positive rate and recall per window with adaptations marked; model
 * versions over time; throughput and latency; the adaptation history.
 */
import type { AdaptationEntry, RunResults, RunWindow, SegmentMetrics } from './results.js';
import { escapeXml, formatNumber, histogramChart, lineChart, type Band, type Marker } from './svg.js';

const COLORS = {
  normal: '#4477aa',
  anomaly: '#cc3311',
  flagged: '#ee7733',
  tp: '#228833',
  fpr: '#cc3311',
  recall: '#228833',
  published: '#0077bb',
  refused: '#aa3377',
  failed: '#777777',
  version: '#332288',
  threshold: '#000000',
  throughput: '#4477aa',
  p50: '#228833',
  p99: '#ee7733',
  sent: '#999999',
};

const PHASE_FILL: Record<string, string> = {
  train: '#f4f4f4',
  stable: '#eef6ee',
  abrupt: '#fdf0e4',
  gradual: '#eef1fb',
  stream: '#f6f6f6',
};

/** Seconds on the run's timeline, as `42s` or `3m05s`. */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const total = Math.abs(ms) / 1000;
  if (total < 60) return `${sign}${formatNumber(Math.round(total * 10) / 10)}s`;
  const m = Math.floor(total / 60);
  const sec = Math.round(total - m * 60);
  return `${sign}${m}m${String(sec).padStart(2, '0')}s`;
}

function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)} %`;
}

function fixed(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

function ms(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${formatNumber(v)} ms`;
}

/** Contiguous runs of windows in one phase become shaded bands. */
export function phaseBands(windows: readonly RunWindow[]): Band[] {
  const bands: Band[] = [];
  for (const w of windows) {
    const last = bands[bands.length - 1];
    if (last && last.label === w.phase) last.to = w.endMs / 1000;
    else
      bands.push({
        from: w.startMs / 1000,
        to: w.endMs / 1000,
        label: w.phase,
        fill: PHASE_FILL[w.phase] ?? '#f6f6f6',
      });
  }
  return bands;
}

export function adaptationMarkers(adaptations: readonly AdaptationEntry[]): Marker[] {
  return adaptations.map((a) => ({
    at: a.atMs / 1000,
    color:
      a.outcome === 'published' ? COLORS.published : a.outcome === 'refused' ? COLORS.refused : COLORS.failed,
    dash: a.outcome === 'published' ? undefined : '4 3',
    label:
      a.outcome === 'published'
        ? `adaptation published: v${a.version} at ${formatDuration(a.atMs)} (${a.reason})`
        : `adaptation ${a.outcome}: ${a.reason} at ${formatDuration(a.atMs)}`,
  }));
}

function card(label: string, value: string, hint = ''): string {
  return `<div class="card"><div class="value">${escapeXml(value)}</div><div class="label">${escapeXml(label)}</div>${
    hint ? `<div class="hint">${escapeXml(hint)}</div>` : ''
  }</div>`;
}

function segmentRow(name: string, m: SegmentMetrics): string {
  const cells = [
    name,
    String(m.records),
    String(m.anomalies),
    String(m.flagged),
    pct(m.precision),
    pct(m.recall),
    pct(m.fpr, 2),
    fixed(m.f1Macro),
    fixed(m.recallMacro),
    fixed(m.rocAuc),
  ];
  return `<tr>${cells.map((c, i) => (i === 0 ? `<th scope="row">${escapeXml(c)}</th>` : `<td>${escapeXml(c)}</td>`)).join('')}</tr>`;
}

function section(id: string, title: string, body: string, note = ''): string {
  return `<section id="${id}"><h2>${escapeXml(title)}</h2>${note ? `<p class="note">${note}</p>` : ''}${body}</section>`;
}

function emptyNote(text: string): string {
  return `<p class="empty">${escapeXml(text)}</p>`;
}

function scoreSection(r: RunResults): string {
  const bins = r.scores.bins;
  if (bins.length === 0)
    return section('scores', 'Score distribution', emptyNote('No scores were recorded in this run.'));
  const markers: Marker[] = [];
  const seen = new Set<number>();
  for (const v of r.modelVersions) {
    if (!(v.threshold > 0) || seen.has(v.threshold)) continue;
    seen.add(v.threshold);
    markers.push({
      at: Math.log10(v.threshold),
      label: `${v.version === r.model.initialVersion ? 'initial threshold' : 'adapted threshold'}: v${v.version} = ${v.threshold.toPrecision(3)}`,
      color: v.version === r.model.initialVersion ? COLORS.threshold : COLORS.version,
      dash: v.version === r.model.initialVersion ? undefined : '5 3',
    });
  }
  if (markers.length === 0 && r.model.threshold > 0) {
    markers.push({
      at: Math.log10(r.model.threshold),
      label: `threshold: ${r.model.threshold.toPrecision(3)}`,
      color: COLORS.threshold,
    });
  }
  const chart = histogramChart({
    title: 'Reconstruction error (MSE) of every scored record, normal and anomalous, with the threshold',
    xLabel: 'reconstruction error (MSE, log scale)',
    yLabel: 'records (log scale)',
    logCounts: true,
    bins: bins.map((b) => ({ lo: b.lo, hi: b.hi, values: [b.normal, b.anomaly] })),
    series: [
      { name: 'normal', color: COLORS.normal },
      { name: 'injected anomaly', color: COLORS.anomaly },
    ],
    markers,
    xFormat: (v) => formatNumber(10 ** v),
  });
  return section(
    'scores',
    'Score distribution',
    chart,
    'A record is flagged when its score exceeds the threshold of the model version that scored it. ' +
      'Solid line: the first model’s threshold; dashed: thresholds of adapted versions.',
  );
}

function timelineCharts(r: RunResults): string {
  const w = r.windows;
  if (w.length === 0)
    return section('timeline', 'Over time', emptyNote('No windows were recorded in this run.'));
  const bands = phaseBands(w);
  const markers = adaptationMarkers(r.adaptations);
  const mid = (x: RunWindow): number => (x.startMs + x.endMs) / 2000;
  const xDomain: [number, number] = [w[0]!.startMs / 1000, w[w.length - 1]!.endMs / 1000];
  const xLabel = 'time since the stream started';
  const xFormat = (v: number): string => formatDuration(v * 1000);

  const flags = lineChart({
    title: 'Flags per window against the true (injected) anomalies',
    xLabel,
    yLabel: 'records per window',
    xDomain,
    xFormat,
    bands,
    markers,
    yIntegers: true,
    series: [
      {
        name: 'true anomalies',
        color: COLORS.anomaly,
        points: w.map((x) => [mid(x), x.anomalies]),
        strokeWidth: 2.5,
      },
      { name: 'flagged', color: COLORS.flagged, points: w.map((x) => [mid(x), x.flagged]), dash: '6 3' },
      {
        name: 'flagged & anomalous',
        color: COLORS.tp,
        points: w.map((x) => [mid(x), x.tp]),
        strokeWidth: 1.5,
      },
    ],
  });
  const rates = lineChart({
    title: 'False-positive rate and recall per window, with adaptations marked',
    xLabel,
    yLabel: 'share',
    xDomain,
    xFormat,
    bands,
    markers,
    yMin: 0,
    yMax: 1,
    yFormat: (v) => `${Math.round(v * 100)}%`,
    series: [
      { name: 'recall', color: COLORS.recall, points: w.map((x) => [mid(x), x.recall]), dots: true },
      { name: 'false-positive rate', color: COLORS.fpr, points: w.map((x) => [mid(x), x.fpr]), dots: true },
    ],
  });
  const versionPoints: [number, number | null][] = w.map((x) => [mid(x), x.modelVersion]);
  const versions = lineChart({
    title: 'Model version scoring each window, with publications marked',
    xLabel,
    yLabel: 'model version',
    xDomain,
    xFormat,
    bands,
    markers: r.modelVersions
      .filter((v) => v.publishedAtMs >= xDomain[0] * 1000)
      .map((v) => ({
        at: v.publishedAtMs / 1000,
        color: v.publishedBy === 'adapter' ? COLORS.published : COLORS.version,
        label: `published by ${v.publishedBy}: v${v.version}, threshold ${v.threshold.toPrecision(3)}, ${v.reason}`,
      })),
    yIntegers: true,
    series: [
      { name: 'version in use', color: COLORS.version, points: versionPoints, step: true, strokeWidth: 2.5 },
    ],
  });
  const liveSent: [number, number | null][] = [];
  for (let i = 1; i < r.live.length; i++) {
    const a = r.live[i - 1]!;
    const b = r.live[i]!;
    const dt = (b.atMs - a.atMs) / 1000;
    if (dt > 0) liveSent.push([b.atMs / 1000, (b.sent - a.sent) / dt]);
  }
  const throughput = lineChart({
    title: 'Throughput: records scored per second, per window',
    xLabel,
    yLabel: 'records / s',
    xDomain,
    xFormat,
    bands,
    series: [
      { name: 'scored / s', color: COLORS.throughput, points: w.map((x) => [mid(x), x.scoredPerSecond]) },
      ...(liveSent.length > 0
        ? [{ name: 'sent / s', color: COLORS.sent, points: liveSent, dash: '3 3', strokeWidth: 1.5 }]
        : []),
    ],
  });
  const latency = lineChart({
    title: 'End-to-end latency per window (record sent → score visible, read_committed)',
    xLabel,
    yLabel: 'latency (ms)',
    xDomain,
    xFormat,
    bands,
    series: [
      { name: 'p50', color: COLORS.p50, points: w.map((x) => [mid(x), x.latencyP50Ms]) },
      { name: 'p99', color: COLORS.p99, points: w.map((x) => [mid(x), x.latencyP99Ms]) },
    ],
  });
  return [
    section(
      'flags',
      'Flags over time',
      flags,
      'Shaded bands are the stream’s phases; vertical marks are adaptation attempts (solid: published, dashed: refused).',
    ),
    section('rates', 'False-positive rate and recall per window', rates),
    section('versions', 'Model versions over time', versions),
    section('throughput', 'Throughput', throughput),
    section('latency', 'Latency', latency),
  ].join('');
}

function adaptationTable(r: RunResults): string {
  if (r.adaptations.length === 0) {
    return section('adaptations', 'Adaptation history', emptyNote('No adaptation ran during this run.'));
  }
  const rows = r.adaptations
    .map(
      (a) =>
        `<tr class="${a.outcome}"><td>${escapeXml(formatDuration(a.atMs))}</td><td>${escapeXml(a.outcome)}</td>` +
        `<td>${a.version === null ? '–' : `v${a.version}`}</td><td>${escapeXml(a.reason)}</td></tr>`,
    )
    .join('');
  return section(
    'adaptations',
    'Adaptation history',
    `<table><thead><tr><th>time</th><th>outcome</th><th>version</th><th>reason</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#fafafa;color:#222}
header{background:#1f2a44;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;color:#cfd6e6;font-size:13px}
main{max-width:920px;margin:0 auto;padding:12px 20px 40px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:14px 18px;margin:16px 0}
h2{font-size:17px;margin:2px 0 10px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:10px;background:#fcfcfc}
.card .value{font-size:20px;font-weight:600}
.card .label{font-size:12px;color:#555;margin-top:2px}
.card .hint{font-size:11px;color:#888}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:5px 6px;text-align:right}
th:first-child,td:first-child{text-align:left}
#adaptations td:last-child,#adaptations th:last-child{text-align:left}
thead th{color:#555;font-weight:600}
tr.refused td{color:#aa3377} tr.failed td{color:#777}
svg.chart{width:100%;height:auto;display:block}
.note{font-size:12.5px;color:#555;margin:0 0 8px}
.empty{color:#888;font-style:italic}
ul.notes{font-size:13px;color:#444}
footer{font-size:12px;color:#888;text-align:center;margin:20px}
`;

/** The complete HTML page for a run. */
export function renderReport(r: RunResults): string {
  const o = r.metrics.overall;
  const published = r.adaptations.filter((a) => a.outcome === 'published').length;
  const refused = r.adaptations.filter((a) => a.outcome === 'refused').length;
  const versions = new Set(r.modelVersions.map((v) => v.version));
  const cards = [
    card('F1-macro', fixed(o.f1Macro), 'both classes, unweighted'),
    card('recall-macro', fixed(o.recallMacro)),
    card('precision (anomalies)', pct(o.precision)),
    card('recall (anomalies)', pct(o.recall)),
    card('false-positive rate', pct(o.fpr, 2)),
    card('records streamed', formatNumber(r.counts.sent), `${formatNumber(r.counts.scored)} scored`),
    card(
      'throughput',
      `${formatNumber(r.throughput.scoredPerSecond)} /s`,
      `over ${formatDuration(r.throughput.durationSeconds * 1000)}`,
    ),
    card('latency p50 / p99', `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)}`),
    card('model versions', String(versions.size), `initial v${r.model.initialVersion}`),
    card('adaptations', `${published} published`, `${refused} refused`),
    card('dead letters', formatNumber(r.counts.deadLetters)),
    card(
      'flags',
      formatNumber(r.counts.flagged),
      r.counts.duplicateFlags > 0 ? `${r.counts.duplicateFlags} duplicates` : 'no duplicates',
    ),
  ].join('');

  const phases = Object.entries(r.metrics.perPhase);
  const phaseTable =
    `<table><thead><tr><th>slice</th><th>records</th><th>anomalies</th><th>flagged</th><th>precision</th>` +
    `<th>recall</th><th>FPR</th><th>F1-macro</th><th>recall-macro</th><th>ROC-AUC</th></tr></thead><tbody>` +
    segmentRow('all', o) +
    phases.map(([name, m]) => segmentRow(name, m)).join('') +
    `</tbody></table>`;
  const variants = Object.entries(r.metrics.perVariant);
  const variantTable =
    variants.length === 0
      ? ''
      : `<table><thead><tr><th>injected variant</th><th>anomalies</th><th>flagged</th><th>recall</th></tr></thead><tbody>${variants
          .map(
            ([name, v]) =>
              `<tr><th scope="row">${escapeXml(name)}</th><td>${v.anomalies}</td><td>${v.flagged}</td><td>${pct(v.recall)}</td></tr>`,
          )
          .join('')}</tbody></table>`;

  const notes =
    r.notes.length === 0
      ? ''
      : section(
          'notes',
          'Notes',
          `<ul class="notes">${r.notes.map((x) => `<li>${escapeXml(x)}</li>`).join('')}</ul>`,
        );

  const run = r.run;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>SparseMetaAE run ${escapeXml(run.id)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>SparseMetaAE run ${escapeXml(run.id)}</h1>
<p>pipeline <b>${escapeXml(run.pipeline)}</b> · source ${escapeXml(run.source)} · ${formatNumber(run.trainRecords)} training records, ${formatNumber(
    run.streamRecords,
  )} streamed${run.rate === null ? '' : ` at ${formatNumber(run.rate)} records/s`}</p>
<p>${escapeXml(run.startedAt)} → ${escapeXml(run.endedAt)} · model v${r.model.initialVersion} on ${escapeXml(
    r.model.backend,
  )}, threshold ${r.model.threshold.toPrecision(4)} (${escapeXml(r.model.thresholdPolicy ?? `p${r.model.percentile} of training scores`)}), trained in ${formatNumber(
    r.model.trainSeconds,
  )} s · features: ${escapeXml(r.model.features.join(', '))}</p>
</header>
<main>
${section('summary', 'Summary', `<div class="cards">${cards}</div>`)}
${section('detection', 'Detection by phase', phaseTable + variantTable, 'Against the labels of the stream: injected anomalies (variants A and B of the report) or the file’s own labels. Macro figures average the normal and anomaly classes.')}
${scoreSection(r)}
${timelineCharts(r)}
${adaptationTable(r)}
${notes}
</main>
<footer>${escapeXml(`generated by smae report from ${r.format}`)}</footer>
</body>
</html>
`;
}
