/**
 * Dead letters: a record that could not become a feature vector is written to the dead-letter topic
 * unchanged (original value bytes, original key, original headers) plus headers that say where it came
 * from and why it failed, so it can be inspected, fixed and replayed onto the input topic.
 */
import { createHash } from 'node:crypto';
import type { SmaeError } from '../errors.js';
import { estimateRecordBytes } from '../kafka/record-size.js';
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
  /** Set when the dead letter does not carry the original bytes: `reference`. */
  payload: 'smae.payload',
  payloadSize: 'smae.payload.size',
  payloadSha256: 'smae.payload.sha256',
  /** Set when the original headers (`dropped`) or key (`key-dropped`) had to go too. */
  trimmed: 'smae.trimmed',
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

/**
 * A dead letter that fits in `maxBytes` (the dead-letter topic's send budget).
 *
 * When the original bytes plus headers are too large (a 1 MB record is dead-lettered with a few hundred
 * bytes of headers, which exceeds a 1 MB topic limit), the value is REPLACED BY A REFERENCE rather than
 * truncated: a JSON object naming the source topic, partition and offset, the size and the SHA-256 of the
 * original bytes, with header `smae.payload: reference` (plus `smae.payload.size`, `smae.payload.sha256`).
 * Why a reference: a truncated Avro value can neither be decoded nor replayed, so a prefix would look
 * like data while being useless and misleading; the reference says exactly where the full record still
 * is (the input topic, until its retention) and lets whoever fetches it check it is the same record.
 * If even that does not fit (huge original headers or key), the original headers and then the key are
 * dropped, said in `smae.trimmed`. `alwaysReference` makes the reference whatever the size (a record
 * whose outputs the broker refused: its bytes may be what the broker objects to).
 */
export function fitDeadLetter(
  dl: OutputMessage,
  maxBytes: number,
  opts: { alwaysReference?: boolean } = {},
): OutputMessage {
  if (!opts.alwaysReference && estimateRecordBytes(dl) <= maxBytes) return dl;
  const original = dl.value ?? Buffer.alloc(0);
  const size = original.length;
  const sha256 = createHash('sha256').update(original).digest('hex');
  const h = dl.headers ?? {};
  const reference = {
    reference: {
      topic: headerString(h, DEAD_LETTER_HEADERS.sourceTopic) ?? null,
      partition: Number(headerString(h, DEAD_LETTER_HEADERS.sourcePartition) ?? -1),
      offset: headerString(h, DEAD_LETTER_HEADERS.sourceOffset) ?? null,
      size,
      sha256,
    },
  };
  const ours: Headers = {
    [DEAD_LETTER_HEADERS.payload]: 'reference',
    [DEAD_LETTER_HEADERS.payloadSize]: String(size),
    [DEAD_LETTER_HEADERS.payloadSha256]: sha256,
  };
  let out: OutputMessage = {
    key: dl.key,
    value: Buffer.from(JSON.stringify(reference)),
    headers: { ...h, ...ours },
  };
  if (estimateRecordBytes(out) <= maxBytes) return out;
  const smaeOnly: Headers = { ...ours, [DEAD_LETTER_HEADERS.trimmed]: 'headers-dropped' };
  for (const name of Object.values(DEAD_LETTER_HEADERS)) {
    const v = h[name];
    if (v !== undefined && smaeOnly[name] === undefined) smaeOnly[name] = v;
  }
  out = { ...out, headers: smaeOnly };
  if (estimateRecordBytes(out) <= maxBytes) return out;
  return {
    ...out,
    key: null,
    headers: { ...smaeOnly, [DEAD_LETTER_HEADERS.trimmed]: 'headers-and-key-dropped' },
  };
}
