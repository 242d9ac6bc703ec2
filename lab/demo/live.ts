/**
 * The demo's live view: a small block redrawn in place every second on a terminal (plain ANSI: cursor
 * up, clear line), or one JSON line per period when stdout is a pipe or a file.
 */

export interface LiveState {
  elapsedMs: number;
  phase: string;
  sent: number;
  total: number;
  sentPerSecond: number;
  scored: number;
  scoredPerSecond: number;
  flags: number;
  flagsPerSecond: number;
  deadLetters: number;
  /** Records in the input topic not yet consumed by the scorer group. */
  consumerLag: number | null;
  modelVersion: number | null;
  threshold: number | null;
  adaptationsPublished: number;
  adaptationsRefused: number;
  lastRefusal: string | null;
  /** F1-macro, recall and FPR over what has been scored so far. */
  f1Macro: number | null;
  recall: number | null;
  fpr: number | null;
  /** Produced → score visible (read_committed), over the scores that arrived in the last 10 s. */
  latencyMs: { p50: number; p99: number } | null;
  scorerUp: boolean;
  adapterUp: boolean | null;
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function rate(n: number): string {
  return `${n >= 100 ? Math.round(n) : n.toFixed(1)}/s`;
}

function pct(v: number | null): string {
  return v === null ? '–' : `${(v * 100).toFixed(1)}%`;
}

/** The lines of one frame (no colour, no control codes). */
export function renderLive(s: LiveState, pipeline: string): string[] {
  const bar = (() => {
    const width = 24;
    const done = s.total > 0 ? Math.min(width, Math.round((s.sent / s.total) * width)) : 0;
    return `[${'#'.repeat(done)}${'.'.repeat(width - done)}]`;
  })();
  const adapter =
    s.adapterUp === null
      ? 'adapter off'
      : `adaptations ${s.adaptationsPublished} published, ${s.adaptationsRefused} refused` +
        (s.lastRefusal ? ` (last: ${s.lastRefusal})` : '') +
        (s.adapterUp ? '' : ' [adapter down]');
  return [
    `smae demo · ${pipeline} · ${(s.elapsedMs / 1000).toFixed(0)} s · phase ${s.phase}`,
    `  sent        ${bar} ${int(s.sent)} / ${int(s.total)}  ${rate(s.sentPerSecond)}`,
    `  scored      ${int(s.scored).padStart(8)}  ${rate(s.scoredPerSecond).padStart(8)}   consumer lag ${
      s.consumerLag === null ? '–' : int(s.consumerLag)
    }${s.scorerUp ? '' : '  [scorer down]'}`,
    `  latency     ${
      s.latencyMs === null
        ? '–'
        : `p50 ${Math.round(s.latencyMs.p50)} ms   p99 ${Math.round(s.latencyMs.p99)} ms   (produced → score visible, last 10 s)`
    }`,
    `  flags       ${int(s.flags).padStart(8)}  ${rate(s.flagsPerSecond).padStart(8)}   dead letters ${int(s.deadLetters)}`,
    `  model       v${s.modelVersion ?? '?'}${s.threshold !== null ? ` (threshold ${s.threshold.toPrecision(3)})` : ''}   ${adapter}`,
    `  so far      F1-macro ${s.f1Macro === null ? '–' : s.f1Macro.toFixed(4)}   recall ${pct(s.recall)}   FPR ${pct(s.fpr)}`,
  ];
}

export class LiveView {
  private drawn = 0;
  private lastJson = 0;

  constructor(
    private readonly pipeline: string,
    private readonly mode: 'tty' | 'json',
    private readonly write: (text: string) => void = (t) => process.stdout.write(t),
    private readonly jsonEveryMs = 2000,
  ) {}

  update(s: LiveState, force = false): void {
    if (this.mode === 'json') {
      if (!force && s.elapsedMs - this.lastJson < this.jsonEveryMs) return;
      this.lastJson = s.elapsedMs;
      this.write(`${JSON.stringify({ event: 'progress', pipeline: this.pipeline, ...s })}\n`);
      return;
    }
    const lines = renderLive(s, this.pipeline);
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const line of lines) out += `\x1b[2K${line}\n`;
    this.write(out);
    this.drawn = lines.length;
  }

  /** Forget the drawn block, so the next output starts below it. */
  release(): void {
    this.drawn = 0;
  }
}
