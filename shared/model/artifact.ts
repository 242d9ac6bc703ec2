/**
 * The model artifact: the one contract every service shares.
 *
 * An artifact is a manifest (everything needed to rebuild and trust the model: feature spec, fitted
 * preprocessing, architecture, threshold, training statistics, lineage, backend) plus the weights as one
 * little-endian float32 buffer, sealed by a SHA-256 digest over both. Readers verify the digest before
 * using an artifact and refuse it otherwise (`INTEGRITY_CHECK_FAILED`), so a torn write, a corrupted
 * copy or a hand-edited threshold never reaches a scorer.
 *
 * On disk an artifact is a directory with `manifest.json`, `weights.bin` and `digest.txt`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError } from '../errors.js';
import type { FittedPreprocessing } from '../preprocessing/spec.js';
import type { EnsembleManifest } from './ensemble.js';
import type { AnyPolicyJson } from '../threshold/policy.js';

export const ARTIFACT_FORMAT = 'smae-model/1' as const;

export interface LayerDef {
  units: number;
  activation: 'relu' | 'linear';
}

export interface Architecture {
  inputDim: number;
  /** Dense layers in order; the last one has `inputDim` units and a linear activation. */
  layers: LayerDef[];
  /** L1 activity penalty on the first hidden layer's outputs (1e-5 in the report). */
  l1Activity: number;
}

/**
 * The decision rule: a fitted threshold policy (`shared/threshold/`). `value`, `reference` and
 * `referenceRows` repeat the policy's state at the top, where every reader (registry summaries, the
 * adapter's guardrails, older readers) finds them; `thresholdPolicyOf` checks that they agree.
 * Manifests written before policies have no `policy`: they read as a `percentile` policy at `percentile`.
 * Readers from before policies refuse a manifest whose policy is not a percentile (it has no `percentile`).
 */
export interface ThresholdInfo {
  /** A record is anomalous when its score is strictly greater than this. */
  value: number;
  /** For a `percentile` policy (and every older manifest): the percentile (0–100) it was computed at. */
  percentile?: number;
  /** Which rows the policy was fitted on, e.g. `training`, `calibration` or `reference-window`. */
  reference: string;
  referenceRows: number;
  /** The fitted policy: kind, parameters and state (absent in manifests written before policies). */
  policy?: AnyPolicyJson;
}

export interface TrainingStats {
  rows: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  finalLoss: number;
  lossHistory: number[];
  wallSeconds: number;
  seed: number | null;
  source: string;
  /** Optimiser settings (absent in artifacts written before they were recorded). */
  optimizer?: OptimizerInfo;
  /** Whether rows were reshuffled every epoch. */
  shuffle?: boolean;
}

export interface OptimizerInfo {
  name: 'adam';
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Where ε is added: Keras adds it to the uncorrected √v (`uncorrected-sqrt-v`), tfjs to √v̂. */
  epsilonOn: 'uncorrected-sqrt-v' | 'corrected-sqrt-v';
}

export interface AdaptationStats {
  supportRows: number;
  steps: number;
  learningRate: number;
  lossBefore: number;
  lossAfter: number;
  policy: string;
  /**
   * The refitted threshold's sampling interval on the reference scores, [low, high] (`thresholdInterval`):
   * the threshold-step and threshold-drift guardrails measure the move from the parent's (the anchor's) threshold to it.
   */
  thresholdInterval?: [number, number];
  [extra: string]: unknown;
}

export interface ModelManifest {
  format: typeof ARTIFACT_FORMAT;
  /** Pipeline name, when published through a registry. */
  pipeline: string | null;
  /** Registry version; null until published. */
  version: number | null;
  parentVersion: number | null;
  createdAt: string;
  /** The TensorFlow.js backend the weights were produced on (`tensorflow`, `cpu`, `wasm`). */
  backend: string;
  preprocessing: FittedPreprocessing;
  architecture: Architecture;
  /** Shapes of the weight tensors in `weights`, in order: kernel [in, out], bias [out], per layer. */
  weightShapes: number[][];
  threshold: ThresholdInfo;
  training: TrainingStats;
  adaptation: AdaptationStats | null;
  /**
   * The profile that built the model, its score (kind and calibration statistics) and its member
   * networks (`weights` holds each member's tensors in turn). Absent in manifests written before
   * profiles: those are one network scored by its MSE (the report's profile).
   */
  ensemble?: EnsembleManifest;
}

export interface ModelArtifact {
  manifest: ModelManifest;
  /** All weight tensors, concatenated in `weightShapes` order, float32 little-endian. */
  weights: Uint8Array;
  /** Hex SHA-256 over the canonical manifest JSON, a NUL byte, and the weights. */
  digest: string;
}

/** JSON with object keys sorted at every level, so the digest does not depend on key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as Record<string, unknown>).sort()) {
        sorted[k] = (v as Record<string, unknown>)[k];
      }
      return sorted;
    }
    return v;
  });
}

export function computeDigest(manifest: ModelManifest, weights: Uint8Array): string {
  return createHash('sha256').update(canonicalJson(manifest)).update('\0').update(weights).digest('hex');
}

/** Seals a manifest and its weights into an artifact. */
export function sealArtifact(manifest: ModelManifest, weights: Uint8Array): ModelArtifact {
  const expected = weightShapesSize(manifest.weightShapes) * 4;
  if (weights.byteLength !== expected) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `weights hold ${weights.byteLength} bytes but the manifest's shapes need ${expected}`,
    );
  }
  return { manifest, weights, digest: computeDigest(manifest, weights) };
}

/** Throws `INTEGRITY_CHECK_FAILED` unless the digest matches the content, and the content is consistent. */
export function verifyArtifact(artifact: ModelArtifact): ModelArtifact {
  const actual = computeDigest(artifact.manifest, artifact.weights);
  if (actual !== artifact.digest) {
    throw new ModelError(
      'INTEGRITY_CHECK_FAILED',
      `model artifact refused: digest ${artifact.digest.slice(0, 12)}… does not match its content ` +
        `(${actual.slice(0, 12)}…); it was modified or truncated after it was sealed`,
      { details: { expected: artifact.digest, actual, version: artifact.manifest?.version ?? null } },
    );
  }
  if (artifact.manifest.format !== ARTIFACT_FORMAT) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `unsupported artifact format ${String(artifact.manifest.format)}`,
    );
  }
  const expected = weightShapesSize(artifact.manifest.weightShapes) * 4;
  if (artifact.weights.byteLength !== expected) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `weights hold ${artifact.weights.byteLength} bytes, expected ${expected}`,
    );
  }
  return artifact;
}

function weightShapesSize(shapes: number[][]): number {
  return shapes.reduce((sum, s) => sum + s.reduce((p, n) => p * n, 1), 0);
}

/** Splits the weight buffer into one Float32Array per tensor (copies, so alignment never matters). */
export function splitWeights(artifact: ModelArtifact): Float32Array[] {
  const out: Float32Array[] = [];
  const view = new DataView(
    artifact.weights.buffer,
    artifact.weights.byteOffset,
    artifact.weights.byteLength,
  );
  let offset = 0;
  for (const shape of artifact.manifest.weightShapes) {
    const size = shape.reduce((p, n) => p * n, 1);
    const arr = new Float32Array(size);
    for (let i = 0; i < size; i++) arr[i] = view.getFloat32(offset + i * 4, true);
    offset += size * 4;
    out.push(arr);
  }
  return out;
}

/** Concatenates weight tensors into the artifact's little-endian buffer. */
export function joinWeights(tensors: readonly Float32Array[]): Uint8Array {
  const total = tensors.reduce((s, t) => s + t.length, 0);
  const bytes = new Uint8Array(total * 4);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const t of tensors) {
    for (let i = 0; i < t.length; i++) view.setFloat32(offset + i * 4, t[i]!, true);
    offset += t.length * 4;
  }
  return bytes;
}

/** Writes the artifact directory atomically (a temporary sibling renamed into place). */
export async function saveArtifact(dir: string, artifact: ModelArtifact): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, 'manifest.json'), JSON.stringify(artifact.manifest, null, 2));
  await writeFile(join(tmp, 'weights.bin'), artifact.weights);
  await writeFile(join(tmp, 'digest.txt'), `${artifact.digest}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

/** Reads and verifies an artifact directory. */
export async function loadArtifact(dir: string): Promise<ModelArtifact> {
  let manifestText: string, weights: Buffer, digest: string;
  try {
    [manifestText, weights, digest] = await Promise.all([
      readFile(join(dir, 'manifest.json'), 'utf8'),
      readFile(join(dir, 'weights.bin')),
      readFile(join(dir, 'digest.txt'), 'utf8'),
    ]);
  } catch (err) {
    throw new ModelError(
      'MODEL_NOT_FOUND',
      `cannot read model artifact in ${dir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(manifestText) as ModelManifest;
  } catch (err) {
    throw new ModelError('INTEGRITY_CHECK_FAILED', `model manifest in ${dir} is not valid JSON`, {
      cause: err,
    });
  }
  return verifyArtifact({ manifest, weights: new Uint8Array(weights), digest: digest.trim() });
}
