/**
 * A pipeline name namespaces everything one detector owns, so several detectors can share a Kafka
 * cluster and a Redis server: topics, consumer groups, transactional ids and Redis keys are all derived
 * here and nowhere else.
 *
 * Redis keys use a hash tag (`smae:{name}:…`) so that all of one pipeline's keys land in the same slot
 * of a Redis Cluster, which lets the registry's Lua scripts touch several of them atomically.
 */
import { ConfigError } from './errors.js';

/** What a pipeline name may be: 1–100 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export const PIPELINE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/;

export interface PipelineNames {
  name: string;
  topics: {
    /** Avro records to score. */
    records: string;
    /** Avro flags for records whose score exceeds the threshold. */
    flags: string;
    /** Optional: every record's score, for monitoring. */
    scores: string;
    /** Records that could not be decoded or mapped, with their original bytes. */
    deadLetters: string;
    /** Model version announcements (compacted). */
    modelUpdates: string;
  };
  groups: {
    scorer: string;
    alerts: string;
    trainer: string;
  };
  /** Prefix for transactional ids; the scorer appends its own scheme (e.g. the input partition). */
  transactionalIdPrefix: string;
  /** Prefix of every Redis key of this pipeline, ending in ':'. */
  redisPrefix: string;
  /**
   * Prefix for BullMQ queues of this pipeline (BullMQ appends `:<queue>:<key>`). It carries the same hash
   * tag as `redisPrefix`, so BullMQ's multi-key Lua scripts work on Redis Cluster (all of a queue's keys,
   * and all of the pipeline's, in one slot).
   */
  queuePrefix: string;
}

export function validatePipelineName(name: string): string {
  if (!PIPELINE_NAME_PATTERN.test(name)) {
    throw new ConfigError('invalid pipeline name', [
      {
        path: 'pipeline',
        message: `"${name}" must be 1–100 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`,
      },
    ]);
  }
  return name;
}

export function pipelineNames(name: string): PipelineNames {
  validatePipelineName(name);
  return {
    name,
    topics: {
      records: `${name}.records`,
      flags: `${name}.flags`,
      scores: `${name}.scores`,
      deadLetters: `${name}.dlq`,
      modelUpdates: `${name}.models`,
    },
    groups: {
      scorer: `${name}.scorer`,
      alerts: `${name}.alerts`,
      trainer: `${name}.trainer`,
    },
    transactionalIdPrefix: `${name}.scorer.tx`,
    redisPrefix: `smae:{${name}}:`,
    queuePrefix: `smae:{${name}}`,
  };
}
