/**
 * Start-up checks on the Kafka side, with messages that say what to do: a service whose input topic
 * does not exist stops at once naming the topic and the two fixes (create it, or let the service
 * create the pipeline's topics), instead of kafkajs's "This server does not host this topic-partition".
 */
import type { Admin } from 'kafkajs';
import { ConfigError } from '../errors.js';

export interface TopicCheckOptions {
  /** The setting that makes the service create its topics, e.g. `SMAE_ENSURE_TOPICS=true`. */
  ensureSetting: string;
  /** Partitions to suggest in the create command. */
  partitions?: number;
  /** Which service or command asks (in the message). */
  who?: string;
}

/** Names of `topics` the cluster does not have (an empty list when all exist). */
export async function missingTopics(admin: Admin, topics: readonly string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  return [...new Set(topics)].filter((t) => !existing.has(t));
}

/** The error for missing topics: one issue per topic, each naming both ways to fix it. */
export function missingTopicsError(missing: readonly string[], opts: TopicCheckOptions): ConfigError {
  const partitions = opts.partitions ?? 6;
  return new ConfigError(
    `${opts.who ?? 'the service'} cannot start: ${missing.length === 1 ? 'a topic it reads does' : 'topics it reads do'} not exist`,
    missing.map((topic) => ({
      path: topic,
      message:
        `topic "${topic}" does not exist: create it (kafka-topics.sh --bootstrap-server … --create --topic ${topic} ` +
        `--partitions ${partitions}), or set ${opts.ensureSetting} so the pipeline's topics are created at start`,
    })),
  );
}

/** Throws `missingTopicsError` unless every topic exists. */
export async function requireTopics(
  admin: Admin,
  topics: readonly string[],
  opts: TopicCheckOptions,
): Promise<void> {
  const missing = await missingTopics(admin, topics);
  if (missing.length > 0) throw missingTopicsError(missing, opts);
}
