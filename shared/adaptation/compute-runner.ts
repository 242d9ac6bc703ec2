/** The adapter's tensor work in a worker thread (`compute-thread.ts`), behind the same `ComputeFn`. */
import type { Logger } from '../log.js';
import type { BackendName } from '../model/backend.js';
import { siblingModule, ThreadRunner } from '../ops/worker.js';
import type { ComputeInput, ComputeResult } from './compute.js';

export function createComputeRunner(opts: {
  backend: BackendName | 'auto';
  logger?: Logger;
}): ThreadRunner<ComputeInput, ComputeResult> {
  return new ThreadRunner(siblingModule(import.meta.url, 'compute-thread'), {
    name: 'compute-thread',
    workerData: { backend: opts.backend },
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
}
