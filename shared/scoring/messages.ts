/**
 * Kafka message shapes the batch logic reads and writes. They mirror kafkajs's (`KafkaMessage`,
 * `Message`) without importing kafkajs, so the batch logic stays pure and testable without a broker.
 */

export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type Headers = Record<string, HeaderValue>;

/** A consumed record and where it came from. */
export interface SourceMessage {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (kafkajs's representation). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch as a decimal string (create or log-append time). */
  timestamp: string;
  headers?: Headers;
}

/** A record to produce. */
export interface OutputMessage {
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: Headers;
}

/** The idempotence key of everything derived from one input record: `<topic>:<partition>:<offset>`. */
export function sourceKey(m: Pick<SourceMessage, 'topic' | 'partition' | 'offset'>): string {
  return `${m.topic}:${m.partition}:${m.offset}`;
}
