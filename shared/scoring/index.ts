/** The scorer's pure batch logic: decode + map → one matrix → one tensor → flags, dead letters, scores, window. */
export * from './batch.js';
export * from './dead-letter.js';
export * from './messages.js';
export * from './model.js';
export * from './window.js';
