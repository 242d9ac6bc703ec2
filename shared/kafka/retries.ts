/**
 * Which kafkajs log lines are retries, not failures.
 *
 * kafkajs logs every error response at error level (namespace Connection, `Response <Api>` with the
 * broker's message in `error`) and every retry of a send (`Failed to send messages: <message>` with
 * `retryCount`), even when the condition is an expected, retriable one: CONCURRENT_TRANSACTIONS right
 * after a commit while the broker still writes the transaction markers, a coordinator that is loading,
 * a leader that moved. Operators alert on error lines, so these are logged at debug and the retries
 * counted in a metric instead; errors kafkajs does not retry keep their level.
 */
import { createRequire } from 'node:module';

interface ProtocolErrorCode {
  type: string;
  code: number;
  retriable: boolean;
  message: string;
}

const require = createRequire(import.meta.url);
// kafkajs's table of broker error codes (type, retriable, message); not in its typed public API.
const { errorCodes } = require('kafkajs/src/protocol/error.js') as { errorCodes: ProtocolErrorCode[] };

/** kafkajs retries these although the protocol marks some as not retriable (CONCURRENT_TRANSACTIONS). */
const RETRIED = new Set(['CONCURRENT_TRANSACTIONS']);

const byMessage = new Map<string, string>(
  errorCodes.filter((e) => e.retriable || RETRIED.has(e.type)).map((e) => [e.message, e.type]),
);

const SEND_PREFIX = 'Failed to send messages: ';

export interface RetryClassification {
  /** The broker error type (CONCURRENT_TRANSACTIONS, …). */
  type: string;
  /** True for the retrier's own line (count it); false for the Connection's line about the same response. */
  isRetry: boolean;
}

/** Classifies a kafkajs log entry: a retriable broker condition, or null for anything else. */
export function classifyRetry(message: string, extra: Record<string, unknown>): RetryClassification | null {
  const error = typeof extra.error === 'string' ? extra.error : undefined;
  if (error !== undefined && message.startsWith('Response ')) {
    const type = byMessage.get(error);
    return type ? { type, isRetry: false } : null;
  }
  if (extra.retryCount !== undefined) {
    const text = message.startsWith(SEND_PREFIX) ? message.slice(SEND_PREFIX.length) : message;
    const type = byMessage.get(text);
    return type ? { type, isRetry: true } : null;
  }
  return null;
}
