/** A detector trained on a simulated stream's stable distribution (benchmark and tests). */
import { sealArtifact, type ModelArtifact } from '../../shared/model/artifact.js';
import { initBackend, trainDetector } from '../../shared/model/index.js';
import type { PolicySpec } from '../../shared/threshold/policy.js';
import type { ProfileSettings } from '../../shared/model/profile.js';
import { DriftStream } from './drift-stream.js';

export interface SimModelOptions {
  rows?: number;
  epochs?: number;
  seed?: number;
  /** Registry version to seal it as (1 by default: the anchor of a fresh pipeline). */
  version?: number | null;
  pipeline?: string | null;
  /**
   * Trainings with seeds `seed, seed + 1, …`, keeping the lowest final loss (default 1). The report's
   * architecture is fragile for small d (dead bottleneck units, see ../shared/data/REFERENCE.md): an
   * operator would retrain a model whose loss is off, and the benchmark should not measure adaptation
   * on a broken model.
   */
  restarts?: number;
  /** A threshold policy fitted on held-out calibration rows (default: the report's percentile rule). */
  threshold?: PolicySpec;
  /** A model profile (default: the report's single network). */
  profile?: ProfileSettings;
}

/** Trains on `stream.trainingRows(rows)` with the report's settings; best of `restarts` by final loss. */
export async function trainSimModel(stream: DriftStream, opts: SimModelOptions = {}): Promise<ModelArtifact> {
  await initBackend();
  const rows = stream.trainingRows(opts.rows ?? 4000).map((r) => r.record);
  let best: ModelArtifact | null = null;
  for (let k = 0; k < Math.max(1, opts.restarts ?? 1); k++) {
    const det = await trainDetector(rows, {
      spec: stream.featureSpec(),
      fit: { epochs: opts.epochs ?? 30, batchSize: 32, seed: (opts.seed ?? 1) + k },
      source: `sim:drift-stream seed ${stream.opts.seed}`,
      pipeline: opts.pipeline ?? null,
      ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
      ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    });
    try {
      const a = det.toArtifact();
      if (best === null || a.manifest.training.finalLoss < best.manifest.training.finalLoss) best = a;
    } finally {
      det.dispose();
    }
  }
  const chosen = best!;
  const version = opts.version === undefined ? 1 : opts.version;
  return sealArtifact(
    { ...structuredClone(chosen.manifest), version, pipeline: opts.pipeline ?? null },
    chosen.weights,
  );
}
