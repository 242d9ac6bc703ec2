/**
 * The anchor: a frozen picture of the last trainer-published model that cumulative guardrails compare
 * every adapted descendant against (threshold ratio, relative weight distance, golden-set recall).
 *
 * Which version is the anchor: an adapted manifest carries `adaptation.anchorVersion` (the adapter
 * writes it), so the anchor of a descendant is found without walking the lineage; a version without
 * adaptation metadata (trained, or published by hand) is its own anchor. A trainer publish therefore
 * starts a new anchor, and a rollback to an adapted version keeps that version's anchor.
 *
 * The anchor state (threshold, weights, golden set) is stored by the adapter in Redis when first
 * needed, so the registry pruning old versions never loses it, and it is never rewritten: it is the
 * one thing a slow poisoning cannot move.
 */
import type { ModelArtifact } from '../model/artifact.js';
import type { GoldenSet } from './golden.js';

export interface AnchorState {
  anchorVersion: number;
  threshold: number;
  /**
   * The threshold in residual units (`thresholdInResidualUnits`), what the cumulative threshold guardrail
   * compares; anchors stored before it existed read as `threshold`.
   */
  residualThreshold: number;
  weightShapes: number[][];
  /** The anchor's weight tensors (kernel, bias per layer). */
  weights: Float32Array[];
  golden: GoldenSet;
  /** Where the golden set's base rows came from (e.g. `window:<n> clean rows`). */
  goldenSource: string;
  createdAt: string;
}

/** The anchor version of a model: its own version unless it was adapted from one. */
export function anchorVersionOf(artifact: ModelArtifact): number | null {
  const a = artifact.manifest.adaptation;
  const fromAdaptation = a !== null && a !== undefined ? a['anchorVersion'] : undefined;
  if (typeof fromAdaptation === 'number' && Number.isInteger(fromAdaptation)) return fromAdaptation;
  return artifact.manifest.version;
}
