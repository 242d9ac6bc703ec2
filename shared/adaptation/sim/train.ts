/** A detector trained on a simulated stream's stable distribution (benchmark and tests). */
import { sealArtifact, type ModelArtifact } from '../../model/artifact.js';
import { initBackend, trainDetector } from '../../model/index.js';
import { DriftStream } from './drift-stream.js';

export interface SimModelOptions {
  rows?: number;
  epochs?: number;
  seed?: number;
  /** Registry version to seal it as (1 by default: the anchor of a fresh pipeline). */
  version?: number | null;
  pipeline?: string | null;
}

/** Trains on `stream.trainingRows(rows)` with the report's settings (fewer epochs if asked). */
export async function trainSimModel(stream: DriftStream, opts: SimModelOptions = {}): Promise<ModelArtifact> {
  await initBackend();
  const det = await trainDetector(
    stream.trainingRows(opts.rows ?? 4000).map((r) => r.record),
    {
      spec: stream.featureSpec(),
      fit: { epochs: opts.epochs ?? 30, batchSize: 32, seed: opts.seed ?? 1 },
      source: `sim:drift-stream seed ${stream.opts.seed}`,
      pipeline: opts.pipeline ?? null,
    },
  );
  try {
    const a = det.toArtifact();
    const version = opts.version === undefined ? 1 : opts.version;
    return sealArtifact({ ...structuredClone(a.manifest), version, pipeline: opts.pipeline ?? null }, a.weights);
  } finally {
    det.dispose();
  }
}
