/**
 * A training job as it crosses into the worker thread, the messages that come back, and the function
 * that runs it (in the worker, or in-process for tests). Everything here is structured-clone safe:
 * plain rows and options go in; progress, then the artifact's manifest, weight bytes (transferred, not
 * copied) and digest come out.
 */
import type { BackendName } from '../model/backend.js';
import type { EpochProgress } from '../model/autoencoder.js';
import type { ModelArtifact, ModelManifest } from '../model/artifact.js';
import type { FeatureSpec, ImputePolicy, ScalerKind } from '../preprocessing/spec.js';
import type { PolicySpec } from '../threshold/policy.js';
import { DEFAULT_PROFILE, profileSettings, type ProfileName } from '../model/profile.js';
import type { TrainingRow } from './rows.js';

export interface TrainJobOptions {
  /** TensorFlow.js backend for the worker (`auto`: tfjs-node if present, else cpu). */
  backend?: BackendName | 'auto';
  /** Numeric scaling (default minmax, the report's). */
  scaler?: ScalerKind;
  impute?: ImputePolicy;
  /** The feature spec (e.g. from features.json); absent: inferred from the rows with the options below. */
  spec?: FeatureSpec;
  /** Forced feature kinds (otherwise inferred from the values). */
  categorical?: string[];
  numeric?: string[];
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Seeds initial weights and shuffling; random (and recorded) when absent. */
  seed?: number;
  /** Threshold percentile of the training rows' reconstruction error (95): the report's rule. */
  percentile?: number;
  /**
   * A threshold policy instead, fitted on calibration rows held out from training (`calibrationFraction`
   * of them, default 0.2); `percentile` is then ignored.
   */
  threshold?: PolicySpec;
  calibrationFraction?: number;
  l1Activity?: number;
  /**
   * The model profile (`shared/model/profile.ts`; default `default`). `report` trains the report's
   * network with `epochs` and `percentile` as given; another profile uses its own epochs and policy
   * (`threshold`, when given, still overrides the policy). The manifest records it.
   */
  profile?: ProfileName;
}

export interface TrainJob extends TrainJobOptions {
  rows: TrainingRow[];
  columns: string[];
  source: string;
  pipeline: string | null;
}

/** Progress of a job, posted as it runs. */
export type TrainProgress =
  | { type: 'started'; backend: BackendName; rows: number; columns: number }
  | { type: 'epoch'; progress: EpochProgress };

/** A job's result as it crosses back from the thread (the weights transferred, not copied). */
export interface TrainResult {
  manifest: ModelManifest;
  weights: ArrayBuffer;
  digest: string;
}

/** Runs a job to a sealed artifact: backend, feature inference, preprocessing, network, threshold. */
export async function runTrainJob(job: TrainJob, emit: (m: TrainProgress) => void): Promise<ModelArtifact> {
  // Imported here so that merely importing this module (for its types) does not load TensorFlow.js.
  const { initBackend } = await import('../model/backend.js');
  const { trainDetector } = await import('../model/training.js');
  const backend = await initBackend({ prefer: job.backend ?? 'auto' });
  emit({ type: 'started', backend, rows: job.rows.length, columns: job.columns.length });
  const infer = {
    ...(job.scaler !== undefined ? { scaler: job.scaler } : {}),
    ...(job.impute !== undefined ? { impute: job.impute } : {}),
    ...(job.categorical !== undefined ? { categorical: job.categorical } : {}),
    ...(job.numeric !== undefined ? { numeric: job.numeric } : {}),
  };
  const fit = {
    ...(job.epochs !== undefined ? { epochs: job.epochs } : {}),
    ...(job.batchSize !== undefined ? { batchSize: job.batchSize } : {}),
    ...(job.learningRate !== undefined ? { learningRate: job.learningRate } : {}),
    ...(job.seed !== undefined ? { seed: job.seed } : {}),
    // In a worker thread nobody else waits on this event loop: no need to yield between steps.
    yieldEveryMs: 1000,
  };
  // Rows keep only the job's columns, in the job's order, so inference sees exactly the chosen features.
  const rows = job.rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const c of job.columns) out[c] = r[c];
    return out;
  });
  const profileName = job.profile ?? DEFAULT_PROFILE;
  const detector = await trainDetector(
    rows,
    {
      spec: job.spec ?? 'infer',
      infer,
      fit,
      ...(job.l1Activity !== undefined ? { l1Activity: job.l1Activity } : {}),
      ...(profileName === 'report' || job.threshold !== undefined ? thresholdOptions(job) : {}),
      profile: profileSettings(
        profileName,
        profileName === 'report' && job.epochs !== undefined ? { epochs: job.epochs } : {},
      ),
      source: job.source,
      pipeline: job.pipeline,
    },
    (progress) => emit({ type: 'epoch', progress }),
  );
  try {
    return detector.toArtifact();
  } finally {
    detector.dispose();
  }
}

/** The report's percentile rule on the training rows, or a policy on held-out calibration rows. */
function thresholdOptions(job: TrainJobOptions): {
  threshold?: PolicySpec;
  calibrationFraction?: number;
} {
  if (job.threshold !== undefined) {
    return {
      threshold: job.threshold,
      ...(job.calibrationFraction !== undefined ? { calibrationFraction: job.calibrationFraction } : {}),
    };
  }
  if (job.percentile === undefined) return {};
  return {
    threshold: { kind: 'percentile', params: { percentile: job.percentile } },
    calibrationFraction: 0,
  };
}
