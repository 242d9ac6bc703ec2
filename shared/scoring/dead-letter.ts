/**
 * Dead letters: a record that could not become a feature vector is written to the dead-letter topic
 * unchanged (original value bytes, original key, original headers) plus headers that say where it came
 * from and why it failed, so it can be inspected, fixed and replayed onto the input topic.
 */
import type { SmaeError } from '../errors.js';
import type { Headers, OutputMessage, SourceMessage } from './messages.js';

export const DEAD_LETTER_HEADERS = {
  sourceTopic: 'smae.source.topic',
  sourcePartition: 'smae.source.partition',
  sourceOffset: 'smae.source.offset',
  sourceTimestamp: 'smae.source.timestamp',
  errorCode: 'smae.error.code',
  errorMessage: 'smae.error.message',
  errorField: 'smae.error.field',
  pipeline: 'smae.pipeline',
} as const;

/** Messages longer than this are cut (headers are not meant for essays). */
const MAX_MESSAGE_CHARS = 1000;

export function deadLetterFor(source: SourceMessage, error: SmaeError, pipeline: string): OutputMessage {
  const headers: Headers = { ...source.headers };
  headers[DEAD_LETTER_HEADERS.sourceTopic] = source.topic;
  headers[DEAD_LETTER_HEADERS.sourcePartition] = String(source.partition);
  headers[DEAD_LETTER_HEADERS.sourceOffset] = source.offset;
  headers[DEAD_LETTER_HEADERS.sourceTimestamp] = source.timestamp;
  headers[DEAD_LETTER_HEADERS.errorCode] = error.code;
  headers[DEAD_LETTER_HEADERS.errorMessage] = error.message.slice(0, MAX_MESSAGE_CHARS);
  if (error.field !== undefined) headers[DEAD_LETTER_HEADERS.errorField] = error.field;
  headers[DEAD_LETTER_HEADERS.pipeline] = pipeline;
  return { key: source.key, value: source.value, headers };
}

/** Reads a header as a string (kafkajs delivers Buffers). */
export function headerString(headers: Headers | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[v.length - 1] : v;
  return one === undefined ? undefined : one.toString();
}
