/**
 * Worker-thread entry for training: receives a `TrainJob` as `workerData`, posts progress and finally
 * the artifact (weights transferred as an ArrayBuffer) or the error. Training here keeps the parent's
 * event loop free for health checks, pub/sub and signals, and lets the parent stop a run by
 * terminating the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTrainJob, serializeError, type TrainJob, type WorkerMessage } from './job.js';

const port = parentPort;
if (!port) throw new Error('train-worker.ts must run in a worker thread');

const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const artifact = await runTrainJob(workerData as TrainJob, (m) => post(m));
  const weights = artifact.weights.buffer.slice(
    artifact.weights.byteOffset,
    artifact.weights.byteOffset + artifact.weights.byteLength,
  ) as ArrayBuffer;
  post({ type: 'done', manifest: artifact.manifest, weights, digest: artifact.digest }, [weights]);
} catch (err) {
  post({ type: 'error', error: serializeError(err) });
}
