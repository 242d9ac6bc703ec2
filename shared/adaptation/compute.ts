/**
 * The compute half of an adaptation cycle: everything that touches tensors, nothing that touches the
 * network. It takes the current model, the window and the anchor, and returns a sealed candidate or a
 * refusal, with figures. Inputs and outputs are plain structured-cloneable data, so the adapter service
 * runs it in a worker thread (the gradient steps never block the event loop that renews BullMQ's job
 * lock) while the benchmark and the tests call it in-process.
 *
 * Order of work, and why:
 * 1. The current model re-scores the window (the scorer's scores may come from an older version).
 * 2. The anchor state (threshold, weights, golden set) is built if the caller has none for this anchor.
 * 3. The policy picks the support set; the threshold reference is every window row the current model
 *    scores at or below `reference.margin × threshold` (support rows included, see config.ts).
 * 4. Window guardrails (too few rows, flagged share) run *before* any step: an incident is not learnt.
 * 5. Fresh Adam, full-batch steps on the support set; the model's threshold policy (or the configured
 *    one) refitted on the reference rows' scores (`adaptDetector`).
 * 6. Move guardrails against the parent and the anchor, golden-set recall.
 */
import { adaptDetector, Detector } from '../model/index.js';
import { thresholdInResidualUnits } from '../model/ensemble.js';
import { sealArtifact, splitWeights, type ModelArtifact } from '../model/artifact.js';
import type { AnchorState } from './anchor.js';
import { policySettings, type AdaptationOptions } from './config.js';
import { buildGoldenSet, goldenRecall } from './golden.js';
import {
  checkModelMove,
  checkWindow,
  ratioMoveToInterval,
  refusalReasons,
  relativeL2,
  type GuardrailCheck,
  type RefusalReason,
} from './guardrails.js';
import { selectDefaultSupport, selectReportSupport, type SupportSelection } from './support.js';
import type { CycleFigures, SupportSummary } from './types.js';
import type { WindowRow } from './window.js';

export interface ComputeInput {
  pipeline: string;
  cycleId: string;
  /** The current model (the parent of any candidate). */
  base: ModelArtifact;
  /** The anchor's stored state, or null to build it from `anchorArtifact` and this window. */
  anchor: AnchorState | null;
  /** Needed only when `anchor` is null; may be `base` itself. */
  anchorArtifact: ModelArtifact | null;
  /** The anchor's version (the artifact's own version may differ when a trimmed anchor was replaced). */
  anchorVersion: number;
  /** Newest first. */
  window: WindowRow[];
  /** Window entries that could not be parsed (reported only). */
  malformed: number;
  options: AdaptationOptions;
}

export interface ComputeResult {
  /** Sealed, version null, ready to publish; null when refused. */
  candidate: ModelArtifact | null;
  reasons: RefusalReason[];
  checks: GuardrailCheck[];
  figures: CycleFigures;
  support: SupportSummary | null;
  /** The anchor used (as given, or newly built). */
  anchor: AnchorState | null;
  /** True when `anchor` was built here and should be stored. */
  anchorBuilt: boolean;
}

export type ComputeFn = (input: ComputeInput) => Promise<ComputeResult>;

/**
 * One adaptation off the event loop: score the window with the parent, build the anchor if none is
 * stored, select the support and reference rows, check the window, take the gradient steps, check the
 * move against the parent and the anchor, and seal the candidate (or say why not).
 */
export async function computeAdaptation(input: ComputeInput): Promise<ComputeResult> {
  const started = performance.now();
  const o = input.options;
  const settings = policySettings(o);
  const base = Detector.fromArtifact(input.base);
  const disposables: { dispose(): void }[] = [base];
  try {
    const thresholdBefore = base.manifest.threshold.value;
    const scored = scoreWindow(base, input.window);
    const { anchor, anchorBuilt } = ensureAnchor(input, base, scored, disposables);
    const rows = selectRows(input, scored, thresholdBefore, base.policy.setsAsideAnomalies);
    const support = summarizeSupport(o.policy, rows.selection, scored.entries);
    const figures = windowFigures(input, base, scored, rows, anchor);
    const done = (
      checks: GuardrailCheck[],
      reasons: RefusalReason[],
      candidate: ModelArtifact | null,
    ): ComputeResult => {
      figures.computeMs = Math.round(performance.now() - started);
      return { candidate, reasons, checks, figures, support, anchor, anchorBuilt };
    };

    const windowChecks = checkWindow(figures, o.guardrails, o.reference.minRows);
    const windowReasons = refusalReasons(windowChecks);
    // Without an anchor there is nothing to hold cumulative drift against: refuse, whatever `enforce` says.
    if (anchor === null || rows.selection.indices.length === 0 || rows.referenceIdx.length === 0) {
      return done(windowChecks, uniq([...windowReasons, 'too-few-rows']), null);
    }
    if (o.enforce && windowReasons.length > 0) return done(windowChecks, windowReasons, null);

    const adapted = await adaptDetector(
      base,
      gatherRows(scored, rows.selection.indices),
      gatherRows(scored, rows.referenceIdx),
      {
        steps: settings.steps,
        learningRate: settings.learningRate,
        policy: o.policy,
        reference: `window-clean: window rows the parent scored ≤ ${
          base.policy.setsAsideAnomalies ? o.reference.anomalyPolicyMargin : o.reference.margin
        }× its threshold`,
        pipeline: input.pipeline,
        ...(o.threshold !== null ? { threshold: o.threshold } : {}),
      },
    );
    disposables.push(adapted);
    const adaptedArtifact = adapted.toArtifact();
    moveFigures(figures, input, adapted, adaptedArtifact, anchor);
    const checks = [
      ...windowChecks,
      ...checkModelMove(
        {
          thresholdBefore,
          thresholdAfter: figures.thresholdAfter!,
          anchorThreshold: anchor.threshold,
          thresholdStep: figures.thresholdStep!,
          weightStep: figures.weightStep!,
          thresholdDrift: figures.thresholdDrift!,
          weightDrift: figures.weightDrift!,
          goldenRecall: figures.goldenRecall!,
          lossAfter: figures.lossAfter ?? Number.NaN,
        },
        o.guardrails,
      ),
    ];
    const reasons = refusalReasons(checks);
    if (reasons.includes('non-finite') || (o.enforce && reasons.length > 0))
      return done(checks, reasons, null);
    const manifest = candidateManifest(input, adaptedArtifact, { rows, support, checks, figures, anchor });
    return done(checks, o.enforce ? [] : reasons, sealArtifact(manifest, adaptedArtifact.weights));
  } finally {
    for (const d of disposables) d.dispose();
  }
}

/** The anchor: as stored, or built now from this window's rows the anchor model itself scores clean. */
function ensureAnchor(
  input: ComputeInput,
  base: Detector,
  scored: ScoredWindow,
  disposables: { dispose(): void }[],
): { anchor: AnchorState | null; anchorBuilt: boolean } {
  if (input.anchor !== null || input.anchorArtifact === null)
    return { anchor: input.anchor, anchorBuilt: false };
  const sameAsBase = input.anchorArtifact.digest === input.base.digest;
  const anchorModel = sameAsBase ? base : Detector.fromArtifact(input.anchorArtifact);
  if (!sameAsBase) disposables.push(anchorModel);
  const anchorScored = sameAsBase ? scored : scoreWindow(anchorModel, scored.entries);
  const anchor = buildAnchor(
    anchorModel,
    input.anchorArtifact,
    input.anchorVersion,
    anchorScored,
    input.options,
  );
  return { anchor, anchorBuilt: anchor !== null };
}

interface SelectedRows {
  selection: SupportSelection;
  /** Window rows the parent scores at or below `reference.margin ×` its threshold: the threshold's reference. */
  referenceIdx: number[];
}

/** The support set (by the policy) and the threshold's reference rows. */
function selectRows(
  input: ComputeInput,
  scored: ScoredWindow,
  thresholdBefore: number,
  anomalyPolicy: boolean,
): SelectedRows {
  const o = input.options;
  const seed = cycleSeed(o.seed, input.cycleId);
  const candidates = scored.entries.map((e, i) => ({ score: scored.scores[i]!, key: e.key }));
  const selection: SupportSelection =
    o.policy === 'report'
      ? selectReportSupport(candidates, thresholdBefore, o.report, seed)
      : selectDefaultSupport(candidates, thresholdBefore, o.default, seed);
  // A policy that sets aside anomalies itself gets the wider margin (see ThresholdReferenceOptions).
  const margin = anomalyPolicy ? o.reference.anomalyPolicyMargin : o.reference.margin;
  const referenceLimit = margin * thresholdBefore;
  const referenceIdx: number[] = [];
  scored.scores.forEach((s, i) => {
    if (!Number.isNaN(s) && s <= referenceLimit) referenceIdx.push(i);
  });
  return { selection, referenceIdx };
}

/** The cycle's figures known before any gradient step. */
function windowFigures(
  input: ComputeInput,
  base: Detector,
  scored: ScoredWindow,
  rows: SelectedRows,
  anchor: AnchorState | null,
): CycleFigures {
  const { entries, scores } = scored;
  const settings = policySettings(input.options);
  const thresholdBefore = base.manifest.threshold.value;
  const prepared = scores.filter((s) => !Number.isNaN(s));
  const lastSeen = base.manifest.adaptation?.['windowNewest'];
  return {
    windowRows: entries.length,
    malformedRows: input.malformed,
    unpreparedRows: entries.length - prepared.length,
    flaggedShare:
      prepared.length === 0 ? 0 : prepared.filter((s) => s > thresholdBefore).length / prepared.length,
    newRows:
      typeof lastSeen === 'string'
        ? entries.filter((e) => compareStreamIds(e.id, lastSeen) > 0).length
        : entries.length,
    supportRows: rows.selection.indices.length,
    referenceRows: rows.referenceIdx.length,
    steps: settings.steps,
    learningRate: settings.learningRate,
    lossBefore: null,
    lossAfter: null,
    thresholdBefore,
    thresholdAfter: null,
    anchorVersion: anchor?.anchorVersion ?? null,
    anchorThreshold: anchor?.threshold ?? null,
    thresholdStep: null,
    weightStep: null,
    thresholdDrift: null,
    weightDrift: null,
    goldenRows: anchor?.golden.rows ?? 0,
    goldenRecallBefore: anchor ? goldenRecall(base, anchor.golden) : null,
    goldenRecall: null,
    computeMs: 0,
  };
}

/** Fills in how far the adapted model moved, from its parent and from the anchor. */
function moveFigures(
  figures: CycleFigures,
  input: ComputeInput,
  adapted: Detector,
  adaptedArtifact: ModelArtifact,
  anchor: AnchorState,
): void {
  const stats = adaptedArtifact.manifest.adaptation;
  const newWeights = splitWeights(adaptedArtifact);
  const thresholdAfter = adaptedArtifact.manifest.threshold.value;
  figures.lossBefore = stats?.lossBefore ?? null;
  figures.lossAfter = stats?.lossAfter ?? null;
  figures.thresholdAfter = thresholdAfter;
  const [low, high] = residualInterval(adaptedArtifact);
  figures.thresholdStep = ratioMoveToInterval(low, high, residualThreshold(input.base));
  figures.weightStep = relativeL2(newWeights, splitWeights(input.base));
  figures.thresholdDrift = ratioMoveToInterval(low, high, anchor.residualThreshold);
  figures.weightDrift = relativeL2(newWeights, anchor.weights);
  figures.goldenRecall = goldenRecall(adapted, anchor.golden);
}

/** The candidate's manifest: the adapted model's, with its lineage and the cycle's record. */
function candidateManifest(
  input: ComputeInput,
  adaptedArtifact: ModelArtifact,
  c: {
    rows: SelectedRows;
    support: SupportSummary | null;
    checks: GuardrailCheck[];
    figures: CycleFigures;
    anchor: AnchorState;
  },
) {
  const o = input.options;
  const settings = policySettings(o);
  const stats = adaptedArtifact.manifest.adaptation;
  return {
    ...adaptedArtifact.manifest,
    pipeline: input.pipeline,
    version: null,
    parentVersion: input.base.manifest.version,
    adaptation: {
      ...(stats ?? {
        supportRows: c.rows.selection.indices.length,
        steps: settings.steps,
        learningRate: settings.learningRate,
        lossBefore: Number.NaN,
        lossAfter: Number.NaN,
      }),
      policy: o.policy,
      cycleId: input.cycleId,
      anchorVersion: c.anchor.anchorVersion,
      support: c.support,
      guardrails: Object.fromEntries(
        c.checks.map((ch) => [ch.name, { value: ch.value, bound: ch.bound, passed: ch.passed }]),
      ),
      flaggedShare: c.figures.flaggedShare,
      windowNewest: input.window[0]?.id ?? null,
      referenceRows: c.rows.referenceIdx.length,
      goldenRecall: c.figures.goldenRecall,
      enforced: o.enforce,
    },
  };
}

export interface ScoredWindow {
  entries: WindowRow[];
  /** Per entry, the model's score; NaN when the record cannot be prepared. */
  scores: number[];
  /** Per entry, its row in `matrix`, or -1. */
  rowOf: number[];
  /** The prepared rows, row-major. */
  matrix: Float32Array;
  width: number;
}

/** The model's score for every window entry, and the prepared matrix (one tensor for the whole window). */
export function scoreWindow(model: Detector, window: readonly WindowRow[]): ScoredWindow {
  const entries = [...window];
  const width = model.preprocessor.width;
  const scores = new Array<number>(entries.length).fill(Number.NaN);
  const rowOf = new Array<number>(entries.length).fill(-1);
  if (entries.length === 0) return { entries, scores, rowOf, matrix: new Float32Array(0), width };
  const prep = model.prepare(entries.map((e) => e.record));
  if (prep.rows > 0) {
    const mse = model.mse(prep.matrix, prep.rows);
    prep.index.forEach((entry, r) => {
      scores[entry] = mse[r]!;
      rowOf[entry] = r;
    });
  }
  return { entries, scores, rowOf, matrix: prep.matrix, width };
}

/** The given entries' prepared rows as one matrix. */
export function gatherRows(
  w: ScoredWindow,
  indices: readonly number[],
): { matrix: Float32Array; rows: number } {
  const matrix = new Float32Array(indices.length * w.width);
  indices.forEach((i, k) => {
    const r = w.rowOf[i]!;
    matrix.set(w.matrix.subarray(r * w.width, (r + 1) * w.width), k * w.width);
  });
  return { matrix, rows: indices.length };
}

/**
 * The anchor's frozen state, from the window rows the anchor scores at or below its threshold; null
 * when fewer than `reference.minRows` such rows exist (nothing trustworthy to build a golden set on).
 */
function buildAnchor(
  anchorModel: Detector,
  anchorArtifact: ModelArtifact,
  version: number,
  scored: ScoredWindow,
  o: AdaptationOptions,
): AnchorState | null {
  const threshold = anchorArtifact.manifest.threshold.value;
  const clean: number[] = [];
  scored.scores.forEach((s, i) => {
    if (!Number.isNaN(s) && s <= threshold) clean.push(i);
  });
  if (clean.length < o.reference.minRows) return null;
  const rows = gatherRows(scored, clean);
  const golden = buildGoldenSet(anchorModel, rows.matrix, rows.rows, scored.width, {
    size: o.golden.size,
    variants: o.golden.variants,
    seed: o.golden.seed,
    numericColumns: numericColumns(anchorModel),
  });
  return {
    anchorVersion: version,
    threshold,
    residualThreshold: residualThreshold(anchorArtifact),
    weightShapes: anchorArtifact.manifest.weightShapes,
    weights: splitWeights(anchorArtifact),
    golden,
    goldenSource: `window: ${clean.length} rows the anchor scored at or below its threshold`,
    createdAt: new Date().toISOString(),
  };
}

/** A model's threshold in residual units, comparable across score statistics (`thresholdInResidualUnits`). */
function residualThreshold(artifact: ModelArtifact): number {
  const m = artifact.manifest;
  return thresholdInResidualUnits(m.threshold.value, m.ensemble?.scoring);
}

/**
 * The candidate's threshold sampling interval (`AdaptationStats.thresholdInterval`) in residual units: the
 * step and the drift count only the distance from the parent's and the anchor's threshold beyond it.
 */
function residualInterval(candidate: ModelArtifact): [number, number] {
  const m = candidate.manifest;
  const [low, high] = m.adaptation?.thresholdInterval ?? [m.threshold.value, m.threshold.value];
  return [
    thresholdInResidualUnits(low, m.ensemble?.scoring),
    thresholdInResidualUnits(high, m.ensemble?.scoring),
  ];
}

/** Model-matrix columns of the numeric features (one-hot slots are never injected into). */
export function numericColumns(model: Detector): number[] {
  const fitted = model.preprocessor.fitted;
  const numeric = new Set(fitted.spec.features.filter((f) => f.kind === 'numeric').map((f) => f.name));
  const out: number[] = [];
  fitted.columns.forEach((c, j) => {
    if (numeric.has(c)) out.push(j);
  });
  return out;
}

function summarizeSupport(
  policy: AdaptationOptions['policy'],
  s: SupportSelection,
  entries: readonly WindowRow[],
): SupportSummary {
  let fromTs: number | null = null;
  let toTs: number | null = null;
  for (const i of s.indices) {
    const ts = entries[i]!.ts;
    if (fromTs === null || ts < fromTs) fromTs = ts;
    if (toTs === null || ts > toTs) toTs = ts;
  }
  return {
    policy,
    rows: s.indices.length,
    eligible: s.eligible,
    excludedByScore: s.excludedByScore,
    excludedByKeyCap: s.excludedByKeyCap,
    maxKeyShare: s.maxKeyShare,
    flaggedInSupport: s.flaggedInSupport,
    fromTs,
    toTs,
  };
}

/** Orders Redis stream ids (`<ms>-<seq>`) numerically; plain strings compare as text. */
export function compareStreamIds(a: string, b: string): number {
  const pa = /^(\d+)-(\d+)$/.exec(a);
  const pb = /^(\d+)-(\d+)$/.exec(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  return Number(pa[1]) - Number(pb[1]) || Number(pa[2]) - Number(pb[2]);
}

/** The cycle's seed: the configured seed mixed with the cycle id (FNV-1a), so cycles differ but replay. */
export function cycleSeed(seed: number, cycleId: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < cycleId.length; i++) {
    h ^= cycleId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
