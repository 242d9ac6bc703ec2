/**
 * Small hand-built artifacts for registry tests (no TensorFlow needed): a 3-feature, 3→2→3 network with
 * deterministic weights derived from `seed`, sealed with the real artifact code.
 */
import {
  ARTIFACT_FORMAT,
  joinWeights,
  sealArtifact,
  type ModelArtifact,
} from '../../../shared/model/artifact.js';

export function tinyArtifact(
  seed = 1,
  opts: { threshold?: number; parentVersion?: number | null } = {},
): ModelArtifact {
  const shapes = [[3, 2], [2], [2, 3], [3]];
  const tensors = shapes.map((shape, t) => {
    const size = shape.reduce((p, n) => p * n, 1);
    return Float32Array.from({ length: size }, (_, i) => Math.sin(seed * 7.1 + t * 3.3 + i) / 2);
  });
  return sealArtifact(
    {
      format: ARTIFACT_FORMAT,
      pipeline: null,
      version: null,
      parentVersion: opts.parentVersion ?? null,
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, seed)).toISOString(),
      backend: 'cpu',
      preprocessing: {
        spec: {
          features: ['a', 'b', 'c'].map((name) => ({ kind: 'numeric' as const, name })),
          scaler: 'standard',
          impute: 'error',
        },
        columns: ['a', 'b', 'c'],
        offset: [0, 0, 0],
        scale: [1, 1, 1],
        means: { a: 0, b: 0, c: 0 },
      },
      architecture: {
        inputDim: 3,
        layers: [
          { units: 2, activation: 'relu' },
          { units: 3, activation: 'linear' },
        ],
        l1Activity: 1e-5,
      },
      weightShapes: shapes,
      threshold: {
        value: opts.threshold ?? 0.1 * seed,
        percentile: 95,
        reference: 'training',
        referenceRows: 100,
      },
      training: {
        rows: 100 + seed,
        epochs: 3,
        batchSize: 32,
        learningRate: 1e-3,
        finalLoss: 0.5,
        lossHistory: [0.9, 0.7, 0.5],
        wallSeconds: 0.1,
        seed,
        source: 'fixture',
      },
      adaptation: null,
    },
    joinWeights(tensors),
  );
}
