/** The trainer core: rows from CSV or Kafka → a detector trained in a worker thread → registry / artifact dir. */
export {
  loadTrainingData,
  runTraining,
  type RunTrainingOptions,
  type TrainingOutcome,
  type TrainingSource,
} from './trainer.js';
export {
  rowsFromCsv,
  rowsFromRecords,
  type ColumnFilter,
  type TrainingData,
  type TrainingRow,
} from './rows.js';
export {
  readLastRecords,
  splitLast,
  type PartitionPlan,
  type ReadLastResult,
  type TopicRecord,
} from './topic-source.js';
export { trainInWorker, type RunWorkerOptions } from './run-worker.js';
export { runTrainJob, type TrainJob, type TrainJobOptions } from './job.js';
export { trainingOptions, type TrainingSettings } from './settings.js';
