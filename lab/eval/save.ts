/**
 * Saving the model an evaluation trained, as a regular artifact (`smae eval --save-model DIR`), so a
 * user can score other files with it (`smae score`). The manifest records the evaluation's protocol:
 * trained on the 70 % split (less any calibration rows), its fitted threshold policy, after the report's
 * adaptation (whose support rows came from the injected test part — recorded as the policy).
 */
import { ModelError } from '../../shared/errors.js';
import {
  ARTIFACT_FORMAT,
  joinWeights,
  saveArtifact,
  sealArtifact,
  type ModelArtifact,
  type ModelManifest,
} from '../../shared/model/artifact.js';
import { thresholdInfoOf } from '../../shared/threshold/manifest.js';
import type { PreparedExperiment, TrialResult } from './experiment.js';

export interface SaveEvalModelOptions {
  source: string;
  batchSize: number;
  learningRate?: number;
}

export function evalArtifact(
  prep: PreparedExperiment,
  result: TrialResult,
  opts: SaveEvalModelOptions,
): ModelArtifact {
  const net = result.network;
  if (!net)
    throw new ModelError('MODEL_NOT_FOUND', 'the trial did not keep its network (keepNetwork was false)');
  const manifest: ModelManifest = {
    format: ARTIFACT_FORMAT,
    pipeline: null,
    version: null,
    parentVersion: null,
    createdAt: new Date().toISOString(),
    backend: result.backend,
    preprocessing: prep.preprocessor.fitted,
    architecture: net.architecture,
    weightShapes: net.weightShapes,
    threshold: thresholdInfoOf(result.policy),
    training: {
      rows: result.fitRows,
      epochs: result.epochs,
      batchSize: opts.batchSize,
      learningRate: opts.learningRate ?? 1e-3,
      finalLoss: result.finalLoss,
      lossHistory: result.lossHistory,
      wallSeconds: result.trainSeconds,
      seed: result.seed,
      source: opts.source,
      optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-7, epsilonOn: 'uncorrected-sqrt-v' },
      shuffle: true,
    },
    adaptation: result.adaptation
      ? { ...result.adaptation, policy: 'report: support rows drawn from the evaluation test part' }
      : null,
  };
  return sealArtifact(manifest, joinWeights(net.getWeights()));
}

export async function saveEvalModel(
  dir: string,
  prep: PreparedExperiment,
  result: TrialResult,
  opts: SaveEvalModelOptions,
): Promise<ModelArtifact> {
  const artifact = evalArtifact(prep, result, opts);
  await saveArtifact(dir, artifact);
  return artifact;
}
