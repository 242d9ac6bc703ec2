/**
 * Runs a training job in a worker thread and returns the verified artifact.
 *
 * Under tsx (how this project runs TypeScript) the worker cannot simply be started on the `.ts` file
 * with `execArgv: ['--import', 'tsx']`: on Node 20 the loader hooks registered that way do not apply to
 * a worker's entry module (ERR_UNKNOWN_FILE_EXTENSION). So the worker starts on a two-line bootstrap
 * that loads the entry through tsx's `tsImport`, resolved from this module so it works from any cwd.
 * Compiled to JavaScript (`npm run build`), the `.js` entry is started directly.
 */
import { Worker } from 'node:worker_threads';
import { ConfigError, SmaeError, type ErrorCode, ERROR_CODES } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { verifyArtifact, type ModelArtifact } from '../model/artifact.js';
import type { EpochProgress } from '../model/autoencoder.js';
import type { BackendName } from '../model/backend.js';
import type { SerializedError, TrainJob, WorkerMessage } from './job.js';

export interface RunWorkerOptions {
  onStarted?: (info: { backend: BackendName; rows: number; columns: number }) => void;
  onEpoch?: (p: EpochProgress) => void;
  /** Aborting terminates the worker; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  logger?: Logger;
}

function startWorker(job: TrainJob): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./train-worker.ts', here).href;
    const code =
      `import(${JSON.stringify(api)})` +
      `.then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}))`;
    return new Worker(code, { eval: true, workerData: job });
  }
  return new Worker(new URL('./train-worker.js', here), { workerData: job });
}

export function trainInWorker(job: TrainJob, opts: RunWorkerOptions = {}): Promise<ModelArtifact> {
  const log = (opts.logger ?? silentLogger).child({ component: 'train-worker' });
  if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
  return new Promise<ModelArtifact>((resolve, reject) => {
    const worker = startWorker(job);
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      settle(() => reject(opts.signal!.reason));
      void worker.terminate();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'started':
          opts.onStarted?.({ backend: m.backend, rows: m.rows, columns: m.columns });
          break;
        case 'epoch':
          opts.onEpoch?.(m.progress);
          break;
        case 'done':
          settle(() => {
            try {
              resolve(
                verifyArtifact({
                  manifest: m.manifest,
                  weights: new Uint8Array(m.weights),
                  digest: m.digest,
                }),
              );
            } catch (err) {
              reject(err);
            }
          });
          break;
        case 'error':
          settle(() => reject(deserializeError(m.error)));
          break;
      }
    });
    worker.on('error', (err) => {
      log.error({ err: err.message }, 'training worker failed');
      settle(() => reject(err));
    });
    worker.on('exit', (code) => {
      settle(() => reject(new Error(`training worker exited with code ${code} before finishing`)));
    });
  });
}

/** Rebuilds the catalogue error the worker threw, so callers see the same code and message. */
export function deserializeError(e: SerializedError): Error {
  if (e.name === 'ConfigError') return new ConfigError(e.message, e.issues ?? []);
  if (e.code && (ERROR_CODES as readonly string[]).includes(e.code)) {
    const err = new SmaeError(e.code as ErrorCode, e.message, {
      ...(e.field !== undefined ? { field: e.field } : {}),
      ...(e.details !== undefined ? { details: e.details } : {}),
    });
    err.name = e.name;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
