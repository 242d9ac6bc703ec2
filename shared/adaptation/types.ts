/** The adaptation cycle's result types: what is logged, stored per cycle, and returned to callers. */
import type { SupportPolicyName } from './config.js';
import type { GuardrailCheck, RefusalReason } from './guardrails.js';

/** What the support set was made of (stored in the published manifest's `adaptation`). */
export interface SupportSummary {
  policy: SupportPolicyName;
  rows: number;
  /** Window rows the current model could prepare. */
  eligible: number;
  excludedByScore: number;
  excludedByKeyCap: number;
  maxKeyShare: number;
  /** Support rows the current model flags (0 under `default`). */
  flaggedInSupport: number;
  /** Event-time span of the support rows (ms), null when empty. */
  fromTs: number | null;
  toTs: number | null;
}

export interface CycleFigures {
  windowRows: number;
  /** Window entries that were not valid JSON records. */
  malformedRows: number;
  /** Records the model could not prepare (missing field, wrong type…). */
  unpreparedRows: number;
  flaggedShare: number;
  /** Window rows newer than the newest one the parent adaptation saw. */
  newRows: number;
  supportRows: number;
  referenceRows: number;
  steps: number;
  learningRate: number;
  lossBefore: number | null;
  lossAfter: number | null;
  thresholdBefore: number;
  thresholdAfter: number | null;
  anchorVersion: number | null;
  anchorThreshold: number | null;
  thresholdStep: number | null;
  weightStep: number | null;
  thresholdDrift: number | null;
  weightDrift: number | null;
  goldenRows: number;
  goldenRecallBefore: number | null;
  goldenRecall: number | null;
  /** Wall time of the compute part (scoring, steps, checks), ms. */
  computeMs: number;
}

interface OutcomeBase {
  cycleId: string;
  pipeline: string;
  /** The version adaptation started from (null when there was none). */
  baseVersion: number | null;
  figures: CycleFigures | null;
  checks: GuardrailCheck[];
  support: SupportSummary | null;
  finishedAt: string;
}

export interface PublishedOutcome extends OutcomeBase {
  status: 'published';
  version: number;
}

export interface RefusedOutcome extends OutcomeBase {
  status: 'refused';
  reasons: RefusalReason[];
}

/** A dry run: everything computed and checked, nothing published, nothing recorded in the ledger. */
export interface DryRunOutcome extends OutcomeBase {
  status: 'dry-run';
  /** The guardrails that would have refused it (empty: it would have been published). */
  reasons: RefusalReason[];
}

export type CycleOutcome = PublishedOutcome | RefusedOutcome | DryRunOutcome;
