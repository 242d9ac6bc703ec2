/**
 * Offline replay of the adaptation loop over a generated stream, with no Redis and no registry: the
 * same `computeAdaptation` the adapter service runs, fed with windows scored by the model in force.
 * The drift benchmark and the slow tests use it.
 *
 * Per window `w` (prequential): the model in force scores the window's rows (false-positive rate on
 * normal rows, recall on injected anomalies), then the adapter sees the most recent `feedRows` of them
 * as its window and may publish a new model, which scores window `w + 1` (from its `lagRows`-th row on,
 * when the adapter's compute time is to be played: the rows before it are still the old model's).
 */
import { sealArtifact, type ModelArtifact } from '../../shared/model/artifact.js';
import { Detector } from '../../shared/model/index.js';
import type { AnchorState } from '../../shared/adaptation/anchor.js';
import { computeAdaptation, type ComputeResult } from '../../shared/adaptation/compute.js';
import type { AdaptationOptions } from '../../shared/adaptation/config.js';
import type { RefusalReason } from '../../shared/adaptation/guardrails.js';
import type { WindowRow } from '../../shared/adaptation/window.js';
import type { SimRow } from './drift-stream.js';

export interface WindowResult {
  window: number;
  /** Share of normal rows flagged by the model in force. */
  fpr: number;
  /** Share of the report's injected anomalies flagged. */
  recall: number;
  /** Share of the subtle anomalies flagged (NaN when there were none). */
  subtleRecall: number;
  /** Share of poisoning rows flagged (NaN when there were none). */
  poisonFlagged: number;
  /** The threshold in force while scoring this window. */
  threshold: number;
  modelVersion: number;
  /** What the adaptation after this window did (null for the no-adaptation arm). */
  published: boolean | null;
  reasons: RefusalReason[];
  goldenRecall: number | null;
  thresholdStep: number | null;
  thresholdDrift: number | null;
  weightDrift: number | null;
  computeMs: number;
}

export interface ReplayArm {
  name: string;
  /** null: never adapt (the static model). */
  options: AdaptationOptions | null;
}

export interface ReplayOptions {
  /** The trained model (version 1, the anchor). */
  trained: ModelArtifact;
  /** Rows of each window, in arrival order. */
  windows: (w: number, current: Detector) => SimRow[];
  count: number;
  /** Most recent rows of a window the adapter sees (default: all). */
  feedRows?: number;
  /**
   * Rows of the next window still scored by the model in force before a publish (the cycle's compute time
   * at the stream's rate; default 0: the new model takes over at the window's first row).
   */
  lagRows?: number;
  pipeline?: string;
  onWindow?: (r: WindowResult) => void;
}

/** Seals `artifact` as registry version `version` (what a publish would do). */
export function asVersion(artifact: ModelArtifact, version: number): ModelArtifact {
  return sealArtifact({ ...structuredClone(artifact.manifest), version }, artifact.weights);
}

export async function replay(arm: ReplayArm, opts: ReplayOptions): Promise<WindowResult[]> {
  let artifact = opts.trained;
  let current = Detector.fromArtifact(artifact);
  /** A published model not yet in force (`lagRows` > 0). */
  let next: Detector | null = null;
  let anchor: AnchorState | null = null;
  const anchorVersion = artifact.manifest.version ?? 1;
  const results: WindowResult[] = [];
  try {
    for (let w = 0; w < opts.count; w++) {
      const takeOver = (): void => {
        if (next === null) return;
        current.dispose();
        current = next;
        next = null;
      };
      if ((opts.lagRows ?? 0) === 0) takeOver();
      const rows = opts.windows(w, current);
      const lag = next === null ? 0 : Math.min(rows.length, opts.lagRows ?? 0);
      const scored = current.scoreBatch(
        rows.slice(0, lag).map((r) => r.record),
        { topK: 0 },
      );
      takeOver();
      scored.push(
        ...current.scoreBatch(
          rows.slice(lag).map((r) => r.record),
          { topK: 0 },
        ),
      );
      let fp = 0;
      let normals = 0;
      let tp = 0;
      let anomalies = 0;
      let subtleHit = 0;
      let subtle = 0;
      let poisonHit = 0;
      let poison = 0;
      const entries: WindowRow[] = [];
      rows.forEach((r, i) => {
        const s = scored[i]!;
        const isScore = !(s instanceof Error);
        const flagged = isScore && s.isAnomaly;
        if (r.poison) {
          poison++;
          if (flagged) poisonHit++;
        } else if (r.label === 2) {
          subtle++;
          if (flagged) subtleHit++;
        } else if (r.label === 1) {
          anomalies++;
          if (flagged) tp++;
        } else {
          normals++;
          if (flagged) fp++;
        }
        entries.push({
          id: `${w}-${i}`,
          record: r.record,
          score: isScore ? s.score : Number.NaN,
          flagged,
          key: r.key,
          ts: r.ts,
          version: current.version,
        });
      });
      const result: WindowResult = {
        window: w,
        fpr: normals === 0 ? 0 : fp / normals,
        recall: anomalies === 0 ? Number.NaN : tp / anomalies,
        subtleRecall: subtle === 0 ? Number.NaN : subtleHit / subtle,
        poisonFlagged: poison === 0 ? Number.NaN : poisonHit / poison,
        threshold: current.policy.threshold,
        modelVersion: current.version ?? 0,
        published: null,
        reasons: [],
        goldenRecall: null,
        thresholdStep: null,
        thresholdDrift: null,
        weightDrift: null,
        computeMs: 0,
      };
      if (arm.options !== null) {
        const feed = opts.feedRows === undefined ? entries : entries.slice(-opts.feedRows);
        const out: ComputeResult = await computeAdaptation({
          pipeline: opts.pipeline ?? 'sim',
          cycleId: `${arm.name}-${w}`,
          base: artifact,
          anchor,
          anchorArtifact: anchor === null ? opts.trained : null,
          anchorVersion,
          window: feed.reverse(),
          malformed: 0,
          options: arm.options,
        });
        if (out.anchorBuilt) anchor = out.anchor;
        result.published = out.candidate !== null;
        result.reasons = out.reasons;
        result.goldenRecall = out.figures.goldenRecall;
        result.thresholdStep = out.figures.thresholdStep;
        result.thresholdDrift = out.figures.thresholdDrift;
        result.weightDrift = out.figures.weightDrift;
        result.computeMs = out.figures.computeMs;
        if (out.candidate !== null) {
          artifact = asVersion(out.candidate, (artifact.manifest.version ?? 0) + 1);
          next = Detector.fromArtifact(artifact);
        }
      }
      results.push(result);
      opts.onWindow?.(result);
    }
  } finally {
    current.dispose();
    next?.dispose();
  }
  return results;
}
