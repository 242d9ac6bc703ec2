/**
 * A slow-poisoning attacker for the benchmark: it wants rows whose target features are multiplied by a
 * large factor (an anomaly the model catches today) to pass as normal. Each cycle it probes the model
 * in force and sends rows with the largest factor that still slips under the support-set bar
 * (`margin × threshold` for most of its rows), spread over many keys so the per-key cap does not
 * stop it. The factor creeps up only as fast as adaptation lets it: the "anomalies gradually made to
 * look normal" of the issue.
 */
import type { Detector } from '../../model/index.js';
import type { DriftStream, SimRow } from './drift-stream.js';

export interface PoisonOptions {
  /** Features the attacker inflates. */
  targets: string[];
  /** Share of each window the attacker controls. */
  share: number;
  /** The support-set margin it aims under (the adapter's `default.margin`). */
  margin: number;
  /** Share of its probe rows that must pass (default 0.9). */
  passShare?: number;
  /** Largest relative increase per cycle it tries (default 0.5). */
  maxStep?: number;
}

export class PoisonAttacker {
  factor = 1;
  private probeSeed = 1;

  constructor(
    private readonly stream: DriftStream,
    private readonly opts: PoisonOptions,
  ) {}

  /** Raises the factor as far as the model in force lets its rows pass; returns it. */
  advance(model: Detector): number {
    const pass = this.opts.passShare ?? 0.9;
    const maxStep = this.opts.maxStep ?? 0.5;
    const limit = this.opts.margin * model.policy.threshold;
    const passes = (f: number): boolean => {
      const probe = this.stream.poisonRows(200, f, this.opts.targets, 7_000 + this.probeSeed);
      const scores = model.scoreBatch(
        probe.map((r) => r.record),
        { topK: 0 },
      );
      let ok = 0;
      for (const s of scores) if (!(s instanceof Error) && s.score <= limit) ok++;
      return ok / probe.length >= pass;
    };
    this.probeSeed++;
    // Binary search on the step in [0, maxStep]: the largest factor that still passes.
    let lo = 0;
    let hi = maxStep;
    if (passes(this.factor * (1 + hi))) lo = hi;
    else {
      for (let i = 0; i < 12; i++) {
        const mid = (lo + hi) / 2;
        if (passes(this.factor * (1 + mid))) lo = mid;
        else hi = mid;
      }
    }
    this.factor *= 1 + lo;
    return this.factor;
  }

  /** Window `w` of the stream with the attacker's share of rows replaced by poison, keys spread. */
  window(w: number): SimRow[] {
    const rows = this.stream.window(w);
    const n = Math.floor(this.opts.share * rows.length);
    const poison = this.stream.poisonRows(n, this.factor, this.opts.targets, 90_000 + w);
    // Replace evenly spaced rows, keeping the window's time order.
    const step = rows.length / Math.max(1, n);
    poison.forEach((p, k) => {
      const i = Math.min(rows.length - 1, Math.floor(k * step));
      const key = `p${k % 97}`;
      rows[i] = { ...p, ts: rows[i]!.ts, key, record: { ...p.record, entity: key } };
    });
    return rows;
  }
}
