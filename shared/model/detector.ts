/**
 * The detector services use: network + preprocessing + threshold + manifest, built from a verified
 * artifact. Scoring is batch-first (one tensor per batch); every score names the model version that made
 * it and, for flagged rows, the columns that contributed most to its reconstruction error.
 */
import { InputError, ModelError } from '../errors.js';
import { Preprocessor } from '../preprocessing/preprocessor.js';
import { thresholdPolicyOf } from '../threshold/manifest.js';
import { takeRows } from '../threshold/holdout.js';
import type { AnyPolicy } from '../threshold/policy.js';
import {
  joinWeights,
  sealArtifact,
  splitWeights,
  verifyArtifact,
  type ModelArtifact,
  type ModelManifest,
} from './artifact.js';
import { validateArchitecture, weightShapesFor } from './architecture.js';
import { SparseAutoencoder } from './autoencoder.js';
import { EnsembleScorer, type ScoringInfo } from './ensemble.js';

export interface Contribution {
  /** Model column name: the field, or `field=category` for a one-hot slot. */
  feature: string;
  /** The input value in raw units (the imputed value, if one was imputed). */
  value: number;
  /** The reconstruction in raw units: what the model expected. */
  expected: number;
  /** This column's squared error / the row's total squared error. */
  share: number;
}

export interface Score {
  /** Reconstruction MSE in model space. */
  score: number;
  isAnomaly: boolean;
  threshold: number;
  /** The threshold policy's p-value or tail probability of the score, where it has one. */
  pValue: number | null;
  modelVersion: number | null;
  /** Top contributions, largest first; empty for rows not explained. */
  contributions: Contribution[];
}

export interface ScoreOptions {
  /** Contributions per explained row (3; 0 for none). */
  topK?: number;
  /** Explain every row, not only flagged ones. */
  explainAll?: boolean;
}

export interface PreparedBatch {
  /** Row-major `rows × width` model rows of the good records. */
  matrix: Float32Array;
  rows: number;
  /** For each matrix row, the index of its record in the input. */
  index: number[];
  /** Records that could not be prepared, by input index. */
  errors: { index: number; error: InputError }[];
}

export const DEFAULT_TOP_K = 3;

export class Detector {
  readonly manifest: ModelManifest;
  readonly preprocessor: Preprocessor;
  /** The fitted threshold policy: `classify(score)` decides. */
  readonly policy: AnyPolicy;
  /** The first (for the report's profile, the only) network. */
  readonly network: SparseAutoencoder;
  /** Every member network, in manifest order. */
  readonly networks: readonly SparseAutoencoder[];
  /** The score the detector thresholds and explains (`manifest.ensemble.scoring`; MSE when absent). */
  readonly scorer: EnsembleScorer;
  private artifact: ModelArtifact | null;

  private constructor(
    networks: SparseAutoencoder[],
    preprocessor: Preprocessor,
    manifest: ModelManifest,
    artifact: ModelArtifact | null,
  ) {
    this.network = networks[0]!;
    this.networks = networks;
    this.scorer = new EnsembleScorer(networks, scoringOf(manifest));
    this.preprocessor = preprocessor;
    this.manifest = deepFreeze(structuredClone(manifest));
    this.policy = thresholdPolicyOf(manifest.threshold);
    this.artifact = artifact;
  }

  /** Verifies the digest (`INTEGRITY_CHECK_FAILED`), checks consistency (`INCOMPATIBLE_MODEL`), builds the network. */
  static fromArtifact(a: ModelArtifact): Detector {
    verifyArtifact(a);
    const m = a.manifest;
    validateArchitecture(m.architecture);
    const weights = splitWeights(a);
    for (const w of weights) {
      for (const v of w) {
        if (!Number.isFinite(v))
          throw new ModelError('INCOMPATIBLE_MODEL', 'model weights contain NaN or Infinity');
      }
    }
    const preprocessor = Preprocessor.fromFitted(m.preprocessing);
    const perMember = weightShapesFor(m.architecture).length;
    const count = memberCount(m);
    if (weights.length !== perMember * count) {
      throw new ModelError(
        'INCOMPATIBLE_MODEL',
        `the manifest names ${count} member networks of ${perMember} weight tensors, got ${weights.length}`,
      );
    }
    const networks: SparseAutoencoder[] = [];
    try {
      for (let k = 0; k < count; k++) {
        networks.push(
          SparseAutoencoder.fromWeights(m.architecture, weights.slice(k * perMember, (k + 1) * perMember)),
        );
      }
      return Detector.assemble(networks, preprocessor, m, a);
    } catch (err) {
      for (const n of networks) n.dispose();
      throw err;
    }
  }

  /**
   * Puts together a detector from its parts (training and adaptation use this). Takes ownership of
   * `network`. The manifest's architecture, weight shapes and preprocessing must match the parts.
   */
  static assemble(
    network: SparseAutoencoder | SparseAutoencoder[],
    preprocessor: Preprocessor,
    manifest: ModelManifest,
    artifact: ModelArtifact | null = null,
  ): Detector {
    const networks = Array.isArray(network) ? network : [network];
    const shapes = weightShapesFor(manifest.architecture);
    const all = networks.flatMap(() => shapes);
    const same =
      networks.length === memberCount(manifest) &&
      JSON.stringify(all) === JSON.stringify(manifest.weightShapes) &&
      networks.every((n) => JSON.stringify(shapes) === JSON.stringify(n.weightShapes)) &&
      preprocessor.width === manifest.architecture.inputDim;
    if (!same) {
      throw new ModelError(
        'INCOMPATIBLE_MODEL',
        `model parts do not fit together: ${preprocessor.width} preprocessed columns, architecture for ` +
          `${manifest.architecture.inputDim} inputs, weight shapes ${JSON.stringify(manifest.weightShapes)}`,
      );
    }
    return new Detector(networks, preprocessor, manifest, artifact);
  }

  get version(): number | null {
    return this.manifest.version;
  }

  /** Prepares records into one matrix; bad records are reported, never thrown. */
  prepare(records: readonly Record<string, unknown>[]): PreparedBatch {
    const width = this.preprocessor.width;
    const matrix = new Float32Array(records.length * width);
    const index: number[] = [];
    const errors: PreparedBatch['errors'] = [];
    records.forEach((record, i) => {
      try {
        this.preprocessor.transformInto(record, matrix, index.length * width);
        index.push(i);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        errors.push({ index: i, error: err });
      }
    });
    return { matrix: matrix.subarray(0, index.length * width), rows: index.length, index, errors };
  }

  /** Per-row reconstruction MSE of a prepared matrix. */
  mse(matrix: Float32Array, rows: number): Float32Array {
    return this.scorer.score(matrix, rows).score;
  }

  /**
   * Scores a prepared matrix as one tensor; top-K contributions per flagged row (every row with
   * `explainAll`). Per-feature terms are computed only for the rows explained (a second pass over just
   * those rows), not for the whole batch: most rows are not flagged.
   */
  scoreMatrix(matrix: Float32Array, rows: number, opts: ScoreOptions = {}): Score[] {
    const topK = Math.max(0, Math.floor(opts.topK ?? DEFAULT_TOP_K));
    const scores = this.scorer.score(matrix, rows).score;
    const modelVersion = this.version;
    const out: Score[] = new Array(rows);
    const explained: number[] = [];
    for (let i = 0; i < rows; i++) {
      const score = scores[i]!;
      const { flagged: isAnomaly, threshold, pValue } = this.policy.classify(score);
      out[i] = { score, isAnomaly, threshold, pValue, modelVersion, contributions: [] };
      if (topK > 0 && (isAnomaly || opts.explainAll)) explained.push(i);
    }
    if (explained.length > 0) this.explain(matrix, explained, topK, out);
    return out;
  }

  /** Fills the top-K contributions of the `rows` of `matrix` into `out`: shares of the score's per-feature terms. */
  private explain(matrix: Float32Array, rows: readonly number[], topK: number, out: Score[]): void {
    const d = this.preprocessor.width;
    const x = rows.length === out.length ? matrix : takeRows(matrix, d, rows);
    const { terms, reconstruction } = this.scorer.score(x, rows.length, { perFeature: true });
    const columns = this.preprocessor.fitted.columns;
    const order = Array.from({ length: d }, (_, j) => j);
    rows.forEach((row, r) => {
      const base = r * d;
      let total = 0;
      for (let j = 0; j < d; j++) total += terms![base + j]!;
      order.sort((a, b) => terms![base + b]! - terms![base + a]!);
      const contributions = out[row]!.contributions;
      for (let k = 0; k < Math.min(topK, d); k++) {
        const j = order[k]!;
        contributions.push({
          feature: columns[j]!,
          value: float32Digits(this.preprocessor.inverseColumn(j, x[base + j]!)),
          expected: float32Digits(this.preprocessor.inverseColumn(j, reconstruction![base + j]!)),
          share: total > 0 ? terms![base + j]! / total : 0,
        });
      }
      for (let j = 0; j < d; j++) order[j] = j;
    });
  }

  /** Prepares and scores records; a record that cannot be prepared gets its `InputError` in its place. */
  scoreBatch(records: readonly Record<string, unknown>[], opts: ScoreOptions = {}): (Score | InputError)[] {
    const prepared = this.prepare(records);
    const out: (Score | InputError)[] = new Array(records.length);
    for (const { index, error } of prepared.errors) out[index] = error;
    const scores = this.scoreMatrix(prepared.matrix, prepared.rows, opts);
    prepared.index.forEach((recordIndex, row) => {
      out[recordIndex] = scores[row]!;
    });
    return out;
  }

  /** The sealed artifact (the one it was loaded from, if any, so digests round-trip). */
  toArtifact(): ModelArtifact {
    if (this.artifact === null) {
      this.artifact = sealArtifact(
        structuredClone(this.manifest),
        joinWeights(this.networks.flatMap((n) => n.getWeights())),
      );
    }
    return this.artifact;
  }

  dispose(): void {
    for (const n of this.networks) n.dispose();
  }
}

/** Members named by the manifest: one for the report's profile and for manifests without an ensemble. */
function memberCount(m: ModelManifest): number {
  return m.ensemble?.members.length ?? 1;
}

function scoringOf(m: ModelManifest): ScoringInfo {
  return m.ensemble?.scoring ?? { kind: 'mse', members: [], calibrationRows: 0, reference: 'training' };
}

/** Raw values round-tripped through float32 scaling carry ~6 reliable significant digits; more is noise. */
function float32Digits(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
