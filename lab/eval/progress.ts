/**
 * A one-line progress bar for terminals (epochs of a training run). It redraws in place with `\r`,
 * so it is only meant for a TTY; `createProgress` returns a no-op renderer otherwise, so logs and
 * pipes never fill with carriage returns.
 */

export interface Progress {
  update(done: number, detail?: string): void;
  /** Clears the line (the final figures are printed by the caller). */
  done(): void;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

const NOOP: Progress = { update: () => undefined, done: () => undefined };

export function createProgress(
  stream: ProgressStream,
  total: number,
  label: string,
  force = false,
): Progress {
  if (!force && !stream.isTTY) return NOOP;
  return new BarProgress(stream, total, label);
}

/** The bar as text, e.g. `train seed 1 [#########-----------]  9/20 loss 0.0123` (exported for tests). */
export function renderBar(label: string, done: number, total: number, detail: string, width: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const counter = `${String(done).padStart(String(total).length)}/${total}`;
  const fixed = label.length + counter.length + detail.length + 6;
  const barWidth = Math.max(10, Math.min(40, width - fixed));
  const filled = Math.round(frac * barWidth);
  const bar = '#'.repeat(filled) + '-'.repeat(barWidth - filled);
  return `${label} [${bar}] ${counter}${detail ? ` ${detail}` : ''}`;
}

class BarProgress implements Progress {
  private lastLength = 0;
  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly label: string,
  ) {}

  update(done: number, detail = ''): void {
    const width = this.stream.columns || 80;
    const line = renderBar(this.label, done, this.total, detail, width).slice(0, width - 1);
    const pad = this.lastLength > line.length ? ' '.repeat(this.lastLength - line.length) : '';
    this.stream.write(`\r${line}${pad}`);
    this.lastLength = line.length;
  }

  done(): void {
    if (this.lastLength > 0) this.stream.write(`\r${' '.repeat(this.lastLength)}\r`);
    this.lastLength = 0;
  }
}
