/**
 * A few static SVG charts, written as strings: the report must open anywhere with no network and no
 * script, so there is no charting library and no JavaScript. Each chart is a complete `<svg>` element
 * with a `viewBox` (it scales with the page), a title for screen readers, axes with rounded ticks, a
 * legend, and `<title>` tooltips on the marks that carry a value.
 */

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface Series {
  name: string;
  color: string;
  /** [x, y] pairs; a null y breaks the line. */
  points: readonly (readonly [number, number | null])[];
  /** Draw as a step function (value holds until the next point). */
  step?: boolean;
  dash?: string;
  strokeWidth?: number;
  /** Mark each point with a dot (with a tooltip). */
  dots?: boolean;
}

/** A shaded x range behind the plot (e.g. a phase of the stream). */
export interface Band {
  from: number;
  to: number;
  label: string;
  fill: string;
}

/** A vertical line at x (e.g. an adaptation, a threshold). */
export interface Marker {
  at: number;
  label: string;
  color: string;
  dash?: string;
}

export interface LineChartOptions {
  title: string;
  width?: number;
  height?: number;
  xLabel: string;
  yLabel: string;
  series: Series[];
  bands?: Band[];
  markers?: Marker[];
  xDomain?: [number, number];
  yMin?: number;
  yMax?: number;
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  /** Integer ticks only on y (counts, versions). */
  yIntegers?: boolean;
}

export interface HistogramOptions {
  title: string;
  width?: number;
  height?: number;
  xLabel: string;
  yLabel: string;
  /** Bin edges in x units; `values[k]` is the height of bin k for series k. */
  bins: readonly { lo: number; hi: number; values: readonly number[] }[];
  series: readonly { name: string; color: string }[];
  markers?: Marker[];
  xFormat?: (v: number) => string;
  /** Plot counts on a log10(1 + n) axis, so a small class stays visible next to a large one. */
  logCounts?: boolean;
}

const DEFAULT_MARGIN: Margin = { top: 34, right: 30, bottom: 46, left: 64 };
const AXIS = '#555';
const GRID = '#e4e4e4';
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(min: number, max: number, count = 5, integers = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  let step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
  if (integers) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  const start = Math.ceil(min / step - 1e-9) * step;
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Compact number formatting for ticks and tooltips. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  if (a >= 1) return trim(v);
  if (a === 0) return '0';
  return v.toPrecision(2);
}

function trim(v: number): string {
  return String(Number(v.toFixed(v >= 10 || v <= -10 ? 1 : 2)));
}

interface Scales {
  x: (v: number) => number;
  y: (v: number) => number;
  plot: { x0: number; x1: number; y0: number; y1: number };
}

function scales(
  width: number,
  height: number,
  m: Margin,
  xd: [number, number],
  yd: [number, number],
): Scales {
  const x0 = m.left;
  const x1 = width - m.right;
  const y0 = height - m.bottom;
  const y1 = m.top;
  const dx = xd[1] - xd[0] || 1;
  const dy = yd[1] - yd[0] || 1;
  return {
    x: (v) => x0 + ((v - xd[0]) / dx) * (x1 - x0),
    y: (v) => y0 - ((v - yd[0]) / dy) * (y0 - y1),
    plot: { x0, x1, y0, y1 },
  };
}

function n(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 10) / 10) : '0';
}

function open(title: string, width: number, height: number, kind: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(kind)}" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-label="${escapeXml(title)}" ${FONT} font-size="12">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`
  );
}

function axes(
  s: Scales,
  xTicks: number[],
  yTicks: number[],
  xLabel: string,
  yLabel: string,
  xFormat: (v: number) => string,
  yFormat: (v: number) => string,
): string {
  const { x0, x1, y0, y1 } = s.plot;
  const parts: string[] = [];
  for (const t of yTicks) {
    const y = s.y(t);
    parts.push(`<line x1="${n(x0)}" x2="${n(x1)}" y1="${n(y)}" y2="${n(y)}" stroke="${GRID}"/>`);
    parts.push(
      `<text x="${n(x0 - 6)}" y="${n(y + 4)}" text-anchor="end" fill="${AXIS}">${escapeXml(yFormat(t))}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = s.x(t);
    parts.push(`<line x1="${n(x)}" x2="${n(x)}" y1="${n(y0)}" y2="${n(y0 + 4)}" stroke="${AXIS}"/>`);
    parts.push(
      `<text x="${n(x)}" y="${n(y0 + 17)}" text-anchor="middle" fill="${AXIS}">${escapeXml(xFormat(t))}</text>`,
    );
  }
  parts.push(`<line x1="${n(x0)}" x2="${n(x1)}" y1="${n(y0)}" y2="${n(y0)}" stroke="${AXIS}"/>`);
  parts.push(`<line x1="${n(x0)}" x2="${n(x0)}" y1="${n(y0)}" y2="${n(y1)}" stroke="${AXIS}"/>`);
  parts.push(
    `<text x="${n((x0 + x1) / 2)}" y="${n(y0 + 36)}" text-anchor="middle" fill="#333">${escapeXml(xLabel)}</text>`,
  );
  const cy = (y0 + y1) / 2;
  parts.push(
    `<text x="14" y="${n(cy)}" text-anchor="middle" fill="#333" transform="rotate(-90 14 ${n(cy)})">${escapeXml(yLabel)}</text>`,
  );
  return parts.join('');
}

function legend(
  entries: readonly { name: string; color: string; dash?: string | undefined }[],
  s: Scales,
): string {
  let x = s.plot.x0;
  const y = 14;
  const parts: string[] = ['<g class="legend">'];
  for (const e of entries) {
    const dash = e.dash ? ` stroke-dasharray="${e.dash}"` : '';
    parts.push(
      `<line x1="${n(x)}" x2="${n(x + 18)}" y1="${y}" y2="${y}" stroke="${e.color}" stroke-width="3"${dash}/>`,
    );
    parts.push(`<text x="${n(x + 23)}" y="${y + 4}" fill="#333">${escapeXml(e.name)}</text>`);
    x += 23 + 7 * e.name.length + 18;
  }
  parts.push('</g>');
  return parts.join('');
}

function markerLines(markers: readonly Marker[], s: Scales, inDomain: (v: number) => boolean): string {
  const parts: string[] = [];
  for (const mk of markers) {
    if (!inDomain(mk.at)) continue;
    const x = s.x(mk.at);
    const dash = mk.dash ? ` stroke-dasharray="${mk.dash}"` : '';
    parts.push(
      `<g class="marker"><line x1="${n(x)}" x2="${n(x)}" y1="${n(s.plot.y0)}" y2="${n(s.plot.y1)}" ` +
        `stroke="${mk.color}" stroke-width="1.5"${dash}><title>${escapeXml(mk.label)}</title></line>` +
        `<path d="M${n(x - 4)} ${n(s.plot.y1 - 7)} L${n(x + 4)} ${n(s.plot.y1 - 7)} L${n(x)} ${n(s.plot.y1)} Z" ` +
        `fill="${mk.color}"><title>${escapeXml(mk.label)}</title></path></g>`,
    );
  }
  return parts.join('');
}

/** A line (or step) chart over a numeric x axis, with optional shaded bands and vertical markers. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 860;
  const height = o.height ?? 260;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of o.series) {
    for (const [x, y] of s.points) {
      xs.push(x);
      if (y !== null && Number.isFinite(y)) ys.push(y);
    }
  }
  const xd: [number, number] = o.xDomain ?? [Math.min(...xs, 0), Math.max(...xs, 1)];
  let yMin = o.yMin ?? Math.min(0, ...ys);
  let yMax = o.yMax ?? Math.max(...ys, yMin + 1);
  if (yMax <= yMin) yMax = yMin + 1;
  if (o.yMax === undefined) yMax = yMax + (yMax - yMin) * 0.05;
  const yTicks = niceTicks(yMin, yMax, 5, o.yIntegers);
  if (o.yMax === undefined && yTicks.length > 0) yMax = Math.max(yMax, yTicks[yTicks.length - 1]!);
  if (o.yMin === undefined && yTicks.length > 0) yMin = Math.min(yMin, yTicks[0]!);
  const s = scales(width, height, DEFAULT_MARGIN, xd, [yMin, yMax]);
  const xFormat = o.xFormat ?? formatNumber;
  const yFormat = o.yFormat ?? formatNumber;
  const inX = (v: number): boolean => v >= xd[0] && v <= xd[1];
  const parts: string[] = [open(o.title, width, height, 'line')];

  for (const b of o.bands ?? []) {
    const from = Math.max(b.from, xd[0]);
    const to = Math.min(b.to, xd[1]);
    if (to <= from) continue;
    const x = s.x(from);
    const w = s.x(to) - x;
    parts.push(
      `<g class="band"><rect x="${n(x)}" y="${n(s.plot.y1)}" width="${n(w)}" height="${n(s.plot.y0 - s.plot.y1)}" ` +
        `fill="${b.fill}"><title>${escapeXml(b.label)}</title></rect>` +
        `<text x="${n(x + 4)}" y="${n(s.plot.y1 + 13)}" fill="#777" font-size="11">${escapeXml(b.label)}</text></g>`,
    );
  }
  parts.push(axes(s, niceTicks(xd[0], xd[1], 8), yTicks, o.xLabel, o.yLabel, xFormat, yFormat));
  parts.push(markerLines(o.markers ?? [], s, inX));

  for (const series of o.series) {
    const paths: string[] = [];
    let current = '';
    let prevY: number | null = null;
    for (const [x, y] of series.points) {
      if (y === null || !Number.isFinite(y)) {
        if (current) paths.push(current);
        current = '';
        prevY = null;
        continue;
      }
      const px = s.x(x);
      const py = s.y(y);
      if (!current) current = `M${n(px)} ${n(py)}`;
      else if (series.step && prevY !== null) current += ` H${n(px)} V${n(py)}`;
      else current += ` L${n(px)} ${n(py)}`;
      prevY = py;
    }
    if (current) paths.push(current);
    const dash = series.dash ? ` stroke-dasharray="${series.dash}"` : '';
    parts.push(
      `<g class="series" data-series="${escapeXml(series.name)}">` +
        paths
          .map(
            (d) =>
              `<path d="${d}" fill="none" stroke="${series.color}" stroke-width="${series.strokeWidth ?? 2}"${dash} ` +
              `stroke-linejoin="round"/>`,
          )
          .join(''),
    );
    if (series.dots) {
      for (const [x, y] of series.points) {
        if (y === null || !Number.isFinite(y)) continue;
        parts.push(
          `<circle cx="${n(s.x(x))}" cy="${n(s.y(y))}" r="3" fill="${series.color}">` +
            `<title>${escapeXml(`${series.name}: ${yFormat(y)} at ${xFormat(x)}`)}</title></circle>`,
        );
      }
    }
    parts.push('</g>');
  }
  const markerLegend = dedupe(o.markers ?? []).map((m) => ({
    name: m.label.split(':')[0]!,
    color: m.color,
    dash: m.dash,
  }));
  parts.push(
    legend([...o.series.map((x) => ({ name: x.name, color: x.color, dash: x.dash })), ...markerLegend], s),
  );
  parts.push('</svg>');
  return parts.join('');
}

/** One legend entry per marker kind (the part of the label before a colon). */
function dedupe(markers: readonly Marker[]): Marker[] {
  const seen = new Set<string>();
  return markers.filter((m) => {
    const key = `${m.label.split(':')[0]}|${m.color}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Overlaid (side-by-side within each bin) histogram bars with vertical markers. */
export function histogramChart(o: HistogramOptions): string {
  const width = o.width ?? 860;
  const height = o.height ?? 280;
  const xFormat = o.xFormat ?? formatNumber;
  const tf = (c: number): number => (o.logCounts ? Math.log10(1 + c) : c);
  const lo = Math.min(...o.bins.map((b) => b.lo), ...(o.markers ?? []).map((m) => m.at));
  const hi = Math.max(...o.bins.map((b) => b.hi), ...(o.markers ?? []).map((m) => m.at));
  const xd: [number, number] = o.bins.length > 0 ? [lo, hi] : [0, 1];
  const maxCount = Math.max(1, ...o.bins.flatMap((b) => b.values));
  const yMax = tf(maxCount) * 1.05;
  let yTicks: number[];
  let yFormat: (v: number) => string;
  if (o.logCounts) {
    yTicks = [];
    for (let p = 0; 10 ** p <= maxCount * 1.0001; p++) yTicks.push(Math.log10(1 + 10 ** p));
    yTicks.unshift(0);
    yFormat = (v) => formatNumber(Math.round(10 ** v - 1));
  } else {
    yTicks = niceTicks(0, yMax, 5, true);
    yFormat = formatNumber;
  }
  const s = scales(width, height, DEFAULT_MARGIN, xd, [0, yMax]);
  const parts: string[] = [open(o.title, width, height, 'histogram')];
  parts.push(axes(s, niceTicks(xd[0], xd[1], 8), yTicks, o.xLabel, o.yLabel, xFormat, yFormat));
  const k = Math.max(1, o.series.length);
  for (const b of o.bins) {
    const x0 = s.x(b.lo);
    const w = Math.max(0.5, (s.x(b.hi) - x0) / k);
    b.values.forEach((count, j) => {
      if (count <= 0) return;
      const y = s.y(tf(count));
      const series = o.series[j]!;
      parts.push(
        `<rect class="bar" x="${n(x0 + j * w)}" y="${n(y)}" width="${n(w)}" height="${n(s.plot.y0 - y)}" ` +
          `fill="${series.color}" fill-opacity="0.85"><title>${escapeXml(
            `${series.name}: ${count} in [${xFormat(b.lo)}, ${xFormat(b.hi)})`,
          )}</title></rect>`,
      );
    });
  }
  parts.push(markerLines(o.markers ?? [], s, (v) => v >= xd[0] && v <= xd[1]));
  const markerLegend = dedupe(o.markers ?? []).map((m) => ({
    name: m.label.split(':')[0]!,
    color: m.color,
    dash: m.dash,
  }));
  parts.push(legend([...o.series, ...markerLegend], s));
  parts.push('</svg>');
  return parts.join('');
}
