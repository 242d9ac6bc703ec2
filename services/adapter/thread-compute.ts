/**
 * The adapter's side of the compute thread: `compute(input)` posts the input to a persistent worker
 * thread and resolves with its result. A thread that dies rejects what it had in flight and is
 * replaced on the next call. Under tsx (sources run as .ts) the thread is bootstrapped through tsx's
 * loader API; from a build it loads the compiled .js directly.
 */
import { Worker } from 'node:worker_threads';
import type { ComputeFn, ComputeInput, ComputeResult } from '../../shared/adaptation/compute.js';
import { SmaeError, type ErrorCode } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import type { BackendName } from '../../shared/model/index.js';

export interface ThreadCompute {
  compute: ComputeFn;
  close(): Promise<void>;
}

interface Pending {
  resolve(r: ComputeResult): void;
  reject(e: Error): void;
}

export function createThreadCompute(
  opts: { backend?: BackendName | 'auto'; logger?: Logger } = {},
): ThreadCompute {
  const log = (opts.logger ?? silentLogger).child({ component: 'compute-thread' });
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const spawn = (): Worker => {
    const entry = new URL(
      import.meta.url.endsWith('.ts') ? './compute-thread.ts' : './compute-thread.js',
      import.meta.url,
    );
    const workerData = { backend: opts.backend ?? 'auto' };
    const w = import.meta.url.endsWith('.ts')
      ? new Worker(BOOT, {
          eval: true,
          workerData: { ...workerData, entry: entry.href, api: import.meta.resolve('tsx/esm/api') },
        })
      : new Worker(entry, { workerData });
    w.on('message', (msg: { id: number; result?: ComputeResult; error?: Record<string, unknown> }) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(reviveError(msg.error));
      else p.resolve(msg.result!);
    });
    const fail = (err: Error): void => {
      log.error({ err: err.message }, 'compute thread failed; in-flight adaptations are retried');
      for (const p of pending.values())
        p.reject(new SmaeError('INFRA_UNAVAILABLE', `compute thread failed: ${err.message}`));
      pending.clear();
      if (worker === w) worker = null;
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (pending.size > 0 || worker === w) fail(new Error(`exited with code ${code}`));
    });
    return w;
  };

  return {
    compute(input: ComputeInput): Promise<ComputeResult> {
      worker ??= spawn();
      const w = worker;
      const id = nextId++;
      return new Promise<ComputeResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, input });
      });
    },
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}

/** Bootstrap for running the .ts entry in a thread: load tsx's loader API, then the entry through it. */
const BOOT = `
const { workerData } = require('node:worker_threads');
import(workerData.api)
  .then(({ tsImport }) => tsImport(workerData.entry, workerData.entry))
  .catch((err) => { console.error(err); process.exit(1); });
`;

function reviveError(e: Record<string, unknown>): Error {
  if (e['smae'] === true) {
    return new SmaeError(e['code'] as ErrorCode, String(e['message']), {
      details: e['details'] as Record<string, unknown> | undefined,
      field: e['field'] as string | undefined,
    });
  }
  const err = new Error(String(e['message']));
  err.name = String(e['name'] ?? 'Error');
  if (typeof e['stack'] === 'string') err.stack = e['stack'];
  return err;
}
