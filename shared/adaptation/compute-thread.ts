/**
 * Worker-thread entry for adaptation: runs `computeAdaptation` (scoring, gradient steps, guardrail
 * figures) off the adapter's event loop, so BullMQ keeps renewing the job lock and the ops server keeps
 * answering while tensors are crunched. TensorFlow.js is initialised once per thread.
 */
import { workerData } from 'node:worker_threads';
import { initBackend, type BackendName } from '../model/backend.js';
import { serveRequests } from '../ops/worker.js';
import { computeAdaptation, type ComputeInput, type ComputeResult } from './compute.js';

const data = (workerData ?? {}) as { backend?: BackendName | 'auto' };
const ready = initBackend({ prefer: data.backend ?? 'auto' });

serveRequests<ComputeInput, ComputeResult>(
  async (input) => {
    await ready;
    return { result: await computeAdaptation(input) };
  },
  { ready },
);
