/**
 * Worker-thread entry: runs `computeAdaptation` (scoring, gradient steps, guardrail figures) off the
 * adapter's main event loop, so BullMQ keeps renewing the job lock and the ops server keeps answering
 * while tensors are crunched. One request at a time, in arrival order; tfjs is initialised once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { computeAdaptation, type ComputeInput } from '../../shared/adaptation/compute.js';
import { isSmaeError } from '../../shared/errors.js';
import { initBackend, type BackendName } from '../../shared/model/index.js';

interface Request {
  id: number;
  input: ComputeInput;
}

const port = parentPort;
if (port === null) throw new Error('compute-thread.ts must run as a worker thread');
const data = (workerData ?? {}) as { backend?: BackendName | 'auto' };
const ready = initBackend({ prefer: data.backend ?? 'auto' });
let queue: Promise<void> = Promise.resolve();

port.on('message', (req: Request) => {
  queue = queue.then(async () => {
    try {
      await ready;
      const result = await computeAdaptation(req.input);
      port.postMessage({ id: req.id, result });
    } catch (err) {
      port.postMessage({ id: req.id, error: serializeError(err) });
    }
  });
});

function serializeError(err: unknown): Record<string, unknown> {
  if (isSmaeError(err)) return { ...err.toJSON(), smae: true };
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}
