/**
 * Start-up checks on the Kafka side, with messages that say what to do: a service whose input topic
 * does not exist stops at once naming the topic and the two fixes (create it, or let the service
 * create the pipeline's topics), instead of kafkajs's "This server does not host this topic-partition".
 */
import { ConfigError } from '../errors.js';
import type { KafkaAdmin } from './port.js';

/** What the checks need of an admin client (the port's, or kafkajs's own, which has the same call). */
export type TopicLister = Pick<KafkaAdmin, 'listTopics'>;

export interface TopicCheckOptions {
  /** The setting that makes the service create its topics, e.g. `SMAE_ENSURE_TOPICS=true`. */
  ensureSetting: string;
  /** Partitions to suggest in the create command. */
  partitions?: number;
  /** Which service or command asks (in the message). */
  who?: string;
}

/** Names of `topics` the cluster does not have (an empty list when all exist). */
export async function missingTopics(admin: TopicLister, topics: readonly string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  return [...new Set(topics)].filter((t) => !existing.has(t));
}

/** The error for missing topics: names each one and both ways to fix it, in one sentence. */
export function missingTopicsError(missing: readonly string[], opts: TopicCheckOptions): ConfigError {
  const partitions = opts.partitions ?? 6;
  const one = missing.length === 1;
  const names = missing.map((t) => `"${t}"`).join(', ');
  return new ConfigError(
    `${opts.who ?? 'the service'} cannot start: ${one ? `topic ${names} does not exist` : `topics ${names} do not exist`}. ` +
      `Create ${one ? 'it' : 'them'} (kafka-topics.sh --bootstrap-server … --create --topic ${one ? missing[0] : '<name>'} ` +
      `--partitions ${partitions}), or set ${opts.ensureSetting} so the pipeline's topics are created at start`,
  );
}

/** Throws `missingTopicsError` unless every topic exists. */
export async function requireTopics(
  admin: TopicLister,
  topics: readonly string[],
  opts: TopicCheckOptions,
): Promise<void> {
  const missing = await missingTopics(admin, topics);
  if (missing.length > 0) throw missingTopicsError(missing, opts);
}
