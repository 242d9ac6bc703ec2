/**
 * Support-set selection: which window rows the gradient steps learn from.
 *
 * The policies see the window newest first and, per row, the *current* model's score (NaN for a row
 * the model could not prepare); they return indices into the window. They are pure and seeded, so a
 * cycle can be replayed.
 *
 * - `report`: `supportSize` rows drawn uniformly at random among the preparable rows, whatever their
 *   score: the report's policy, anomalies included.
 * - `default`: only rows scored at or below `margin × threshold` are candidates (the model does not
 *   learn what it flags, nor what sits just under the bar); they are taken newest first (`recent`) or
 *   in a seeded random order (`random`), skipping a row whenever its key already holds its share
 *   (`maxKeyShare` of the final set), so one entity cannot steer the model.
 */
import { SeededRandom } from '../random.js';
import type { DefaultPolicyOptions, ReportPolicyOptions } from './config.js';

export interface SupportCandidate {
  /** The current model's score of the row; NaN if the row could not be prepared. */
  score: number;
  /** Entity key, '' for none. */
  key: string;
}

export interface SupportSelection {
  /** Indices into the window (newest first), in selection order. */
  indices: number[];
  /** Preparable rows in the window. */
  eligible: number;
  /** Rows left out because the current model scored them above `margin × threshold`. */
  excludedByScore: number;
  /** Clean rows passed over because their key already held its share. */
  excludedByKeyCap: number;
  /** The largest share any single (non-empty) key holds in the selection. */
  maxKeyShare: number;
  /** Selected rows the current model flags (score > threshold): 0 for `default`, whatever chance gives for `report`. */
  flaggedInSupport: number;
}

/** The report's policy: `supportSize` preparable rows at random (seeded), flagged or not. */
export function selectReportSupport(
  rows: readonly SupportCandidate[],
  threshold: number,
  opts: Pick<ReportPolicyOptions, 'supportSize'>,
  seed: number,
): SupportSelection {
  const eligible = preparable(rows);
  const k = Math.min(opts.supportSize, eligible.length);
  const picks = new SeededRandom(seed).choice(eligible.length, k).map((i) => eligible[i]!);
  return summarize(rows, picks, threshold, eligible.length, 0, 0);
}

/** The default policy: clean rows only, newest first or seeded sample, per-key cap. */
export function selectDefaultSupport(
  rows: readonly SupportCandidate[],
  threshold: number,
  opts: Pick<DefaultPolicyOptions, 'supportSize' | 'margin' | 'maxKeyShare' | 'sampling'>,
  seed: number,
): SupportSelection {
  const eligible = preparable(rows);
  const limit = opts.margin * threshold;
  const clean = eligible.filter((i) => rows[i]!.score <= limit);
  const excludedByScore = eligible.length - clean.length;
  let order = clean;
  if (opts.sampling === 'random') {
    const rng = new SeededRandom(seed);
    order = rng.choice(clean.length, clean.length).map((i) => clean[i]!);
  }
  // The cap is a share of the final set, whose size depends on the cap: shrink the target until the
  // selection fills it (terminates because the target strictly decreases).
  let target = Math.min(opts.supportSize, order.length);
  let taken = takeWithKeyCap(rows, order, target, keyCap(opts.maxKeyShare, target));
  while (taken.picks.length < target) {
    target = taken.picks.length;
    taken = takeWithKeyCap(rows, order, target, keyCap(opts.maxKeyShare, target));
  }
  return summarize(rows, taken.picks, threshold, eligible.length, excludedByScore, taken.skipped);
}

function keyCap(share: number, target: number): number {
  return Math.max(1, Math.floor(share * target));
}

function takeWithKeyCap(
  rows: readonly SupportCandidate[],
  order: readonly number[],
  target: number,
  cap: number,
): { picks: number[]; skipped: number } {
  const perKey = new Map<string, number>();
  const picks: number[] = [];
  let skipped = 0;
  for (const i of order) {
    if (picks.length >= target) break;
    const key = rows[i]!.key;
    if (key !== '') {
      const n = perKey.get(key) ?? 0;
      if (n >= cap) {
        skipped++;
        continue;
      }
      perKey.set(key, n + 1);
    }
    picks.push(i);
  }
  return { picks, skipped };
}

function preparable(rows: readonly SupportCandidate[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) if (!Number.isNaN(rows[i]!.score)) out.push(i);
  return out;
}

function summarize(
  rows: readonly SupportCandidate[],
  indices: number[],
  threshold: number,
  eligible: number,
  excludedByScore: number,
  excludedByKeyCap: number,
): SupportSelection {
  const perKey = new Map<string, number>();
  let flagged = 0;
  for (const i of indices) {
    const r = rows[i]!;
    if (r.score > threshold) flagged++;
    if (r.key !== '') perKey.set(r.key, (perKey.get(r.key) ?? 0) + 1);
  }
  const maxCount = Math.max(0, ...perKey.values());
  return {
    indices,
    eligible,
    excludedByScore,
    excludedByKeyCap,
    maxKeyShare: indices.length === 0 ? 0 : maxCount / indices.length,
    flaggedInSupport: flagged,
  };
}
