/** Runs a training job in a worker thread (`shared/ops/worker.ts`) and returns the verified artifact. */
import type { Logger } from '../log.js';
import { verifyArtifact, type ModelArtifact } from '../model/artifact.js';
import type { EpochProgress } from '../model/autoencoder.js';
import type { BackendName } from '../model/backend.js';
import { siblingModule, ThreadRunner } from '../ops/worker.js';
import type { TrainJob, TrainProgress, TrainResult } from './job.js';

export interface RunWorkerOptions {
  onStarted?: (info: { backend: BackendName; rows: number; columns: number }) => void;
  onEpoch?: (p: EpochProgress) => void;
  /** Aborting terminates the worker; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  logger?: Logger;
}

export async function trainInWorker(job: TrainJob, opts: RunWorkerOptions = {}): Promise<ModelArtifact> {
  const runner = new ThreadRunner<TrainJob, TrainResult, TrainProgress>(
    siblingModule(import.meta.url, 'train-worker'),
    { name: 'train-worker', ...(opts.logger ? { logger: opts.logger } : {}) },
  );
  try {
    const r = await runner.run(job, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (m) => {
        if (m.type === 'started') opts.onStarted?.({ backend: m.backend, rows: m.rows, columns: m.columns });
        else opts.onEpoch?.(m.progress);
      },
    });
    return verifyArtifact({ manifest: r.manifest, weights: new Uint8Array(r.weights), digest: r.digest });
  } finally {
    await runner.close();
  }
}
