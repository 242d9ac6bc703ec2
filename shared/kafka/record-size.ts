/**
 * Record sizes as the broker counts them, and chunks of records that always fit.
 *
 * The broker refuses a produce request whose record batch for one partition is larger than the topic's
 * `max.message.bytes` (broker default `message.max.bytes`, 1,048,588 bytes), with MESSAGE_TOO_LARGE, a
 * non-retriable error: sending the same batch again fails again. A client that puts a whole fetch's
 * outputs into one send can therefore stall a partition for good (the outputs of ~1 MB of small input
 * records are larger than 1 MB). So outputs are sent in chunks whose estimated size stays under the limit.
 *
 * The estimate is an upper bound of the v2 record format (KIP-98) without compression: every varint is
 * counted at its maximum width, so a chunk that fits by the estimate fits on the wire.
 */
import type { KafkaAdmin } from './port.js';
import type { Logger } from '../log.js';

/** Bytes of a v2 record batch header (base offset … record count). */
export const RECORD_BATCH_OVERHEAD = 61;

/** Kafka's default `message.max.bytes` / `max.message.bytes`. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

type Bytes = Buffer | string | null | undefined;
type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** The parts of a record that take space. */
export interface SizedRecord {
  key?: Bytes;
  value: Bytes;
  headers?: Record<string, HeaderValue>;
}

const VARINT_MAX = 5;
const VARLONG_MAX = 10;

function byteLength(b: Bytes): number {
  if (b === null || b === undefined) return 0;
  return typeof b === 'string' ? Buffer.byteLength(b) : b.length;
}

/** Upper bound of one record's bytes inside a record batch. */
export function estimateRecordBytes(r: SizedRecord): number {
  // length, attributes, timestamp delta, offset delta, key length, value length, header count
  let n = VARINT_MAX + 1 + VARLONG_MAX + VARINT_MAX + VARINT_MAX + VARINT_MAX + VARINT_MAX;
  n += byteLength(r.key) + byteLength(r.value);
  for (const [name, v] of Object.entries(r.headers ?? {})) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) {
      n += VARINT_MAX + Buffer.byteLength(name) + VARINT_MAX + byteLength(one);
    }
  }
  return n;
}

/** The payload budget of one send to a topic whose limit is `maxMessageBytes`. */
export function sendBudget(maxMessageBytes: number): number {
  // The batch header, plus slack for what the estimate may not see (kafkajs adds no headers of its own).
  return Math.max(1024, Math.floor((maxMessageBytes - RECORD_BATCH_OVERHEAD) * 0.95));
}

/**
 * Splits `items` into consecutive chunks of at most `maxBytes` (by `sizeOf`) and at most `maxCount`
 * items. An item larger than `maxBytes` on its own gets a chunk of its own (the caller decides whether it
 * can be sent at all). Order is kept.
 */
export function chunkBySize<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxBytes: number,
  maxCount = Number.POSITIVE_INFINITY,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxCount)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Per-topic `max.message.bytes`, read once from the topics' configuration (DescribeConfigs), with a safe
 * default for a topic whose configuration cannot be read (missing ACL, an old broker).
 */
export class TopicSizeLimits {
  private readonly limits = new Map<string, number>();

  constructor(
    private readonly fallback = KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    /** An upper bound on every limit (configuration), e.g. to keep sends small on purpose. */
    private readonly cap = Number.POSITIVE_INFINITY,
  ) {}

  /** The limit of `topic` in bytes (the fallback until `load` has read it). */
  maxMessageBytes(topic: string): number {
    return Math.min(this.limits.get(topic) ?? this.fallback, this.cap);
  }

  /** The payload bytes one send to `topic` may carry. */
  budget(topic: string): number {
    return sendBudget(this.maxMessageBytes(topic));
  }

  set(topic: string, bytes: number): void {
    this.limits.set(topic, bytes);
  }

  async load(admin: KafkaAdmin, topics: readonly string[], logger?: Logger): Promise<void> {
    try {
      for (const [topic, bytes] of await admin.maxMessageBytes(topics)) this.limits.set(topic, bytes);
    } catch (err) {
      logger?.warn(
        { err: (err as Error).message, fallback: this.fallback },
        'cannot read max.message.bytes of the output topics; using the default',
      );
    }
  }
}
