/**
 * Worker-thread entry for training: runs a `TrainJob`, posts progress and finally the artifact (weights
 * transferred as an ArrayBuffer). Training here keeps the parent's event loop free for health checks,
 * pub/sub and signals, and lets the parent stop a run by terminating the thread.
 */
import { serveRequests } from '../ops/worker.js';
import { runTrainJob, type TrainJob, type TrainProgress, type TrainResult } from './job.js';

serveRequests<TrainJob, TrainResult, TrainProgress>(async (job, progress) => {
  const artifact = await runTrainJob(job, progress);
  const weights = artifact.weights.buffer.slice(
    artifact.weights.byteOffset,
    artifact.weights.byteOffset + artifact.weights.byteLength,
  ) as ArrayBuffer;
  return { result: { manifest: artifact.manifest, weights, digest: artifact.digest }, transfer: [weights] };
});
