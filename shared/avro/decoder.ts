/**
 * Avro record decoding for Kafka message values.
 *
 * Two framings are accepted:
 * - the Confluent wire format: a magic byte 0, the writer schema's id as a 4-byte big-endian int, then
 *   the Avro body. The id is resolved to the writer schema through a pluggable `resolveSchemaId`
 *   (a static map, a directory of `.avsc` files, a schema registry over HTTP — see `schema-ids.ts`);
 * - raw Avro: the body alone, written with `rawWriterSchema` (the reader schema unless configured).
 *
 * The reader schema is the configured `.avsc`: whatever schema a producer wrote with, the scorer sees
 * records shaped by the reader schema, resolved by Avro's rules (added fields take their defaults,
 * removed fields are skipped, int widens to long/float/double, unqualified record names must match).
 * One resolver is built and cached per writer schema id, so resolution costs one lookup per id, not per
 * record; decoding is synchronous whenever the resolver is cached, which keeps the batch loop free of
 * promise overhead in the common case.
 *
 * `wireFormat: 'auto'` (the default) reads a value starting with byte 0 and at least 5 bytes long as
 * Confluent framing, anything else as raw Avro. A raw record can start with 0 too (an empty first
 * string, a first union in its first branch), so when the id is unknown the decoder tries the bytes as
 * raw Avro before giving up. Set `'confluent'` or `'raw'` when the topic's framing is known.
 *
 * Every failure is an `InputError` (routed to the dead-letter topic by the caller):
 * `EMPTY_RECORD` (no value: a tombstone), `DECODE_FAILED` (bytes that are not valid Avro for the writer
 * schema, bad framing), `UNKNOWN_SCHEMA_ID` (an id the resolver does not know; remembered for
 * `unknownIdRetryMs` so a flood of such records does not hammer a registry), `SCHEMA_MISMATCH` (a
 * writer schema that cannot be resolved to the reader schema).
 */
import { InputError } from '../errors.js';
import type { AvroType } from './schemas.js';

/** Returns the writer schema for a Confluent schema id, or undefined when the id is unknown. */
export type SchemaIdResolver = (id: number) => Promise<AvroType | undefined> | AvroType | undefined;

export type WireFormat = 'auto' | 'confluent' | 'raw';

export interface RecordDecoderOptions {
  /** The schema records are read as (the configured `.avsc`). */
  readerSchema: AvroType;
  /** Writer schema lookup for the Confluent wire format. Without it, every framed record is UNKNOWN_SCHEMA_ID. */
  resolveSchemaId?: SchemaIdResolver;
  /** Framing of message values; default `'auto'`. */
  wireFormat?: WireFormat;
  /** The schema raw (unframed) values were written with; default: the reader schema. */
  rawWriterSchema?: AvroType;
  /** How long an unknown schema id is remembered as unknown before the resolver is asked again; default 30 s. */
  unknownIdRetryMs?: number;
}

export interface DecodedRecord {
  value: Record<string, unknown>;
  /** The Confluent schema id the record was framed with, or null for raw Avro. */
  schemaId: number | null;
}

export const CONFLUENT_MAGIC_BYTE = 0;
export const CONFLUENT_HEADER_BYTES = 5;

type CacheEntry =
  | { kind: 'ready'; resolver: ReturnType<AvroType['createResolver']> }
  | { kind: 'ready-same' }
  | { kind: 'failed'; error: InputError; until: number };

/** True when the bytes look like Confluent framing (magic byte 0 and room for a schema id). */
export function isConfluentFramed(bytes: Uint8Array): boolean {
  return bytes.length >= CONFLUENT_HEADER_BYTES && bytes[0] === CONFLUENT_MAGIC_BYTE;
}

export class RecordDecoder {
  readonly readerSchema: AvroType;
  readonly wireFormat: WireFormat;
  private readonly resolveSchemaId: SchemaIdResolver | undefined;
  private readonly unknownIdRetryMs: number;
  private readonly raw: CacheEntry;
  private readonly cache = new Map<number, CacheEntry>();
  private readonly pending = new Map<number, Promise<CacheEntry>>();

  constructor(opts: RecordDecoderOptions) {
    if (!opts.readerSchema || typeof opts.readerSchema.fromBuffer !== 'function') {
      throw new TypeError(
        'RecordDecoder: readerSchema must be an avsc Type (use loadSchemaFile or parseSchema)',
      );
    }
    this.readerSchema = opts.readerSchema;
    this.wireFormat = opts.wireFormat ?? 'auto';
    this.resolveSchemaId = opts.resolveSchemaId;
    this.unknownIdRetryMs = opts.unknownIdRetryMs ?? 30_000;
    this.raw = opts.rawWriterSchema ? this.buildEntry(opts.rawWriterSchema, null) : { kind: 'ready-same' };
  }

  /**
   * Decodes one message value. Synchronous when no schema lookup is needed (raw Avro, or a schema id
   * whose resolver is cached); otherwise returns a promise. Throws (or rejects with) an `InputError`.
   */
  decode(bytes: Buffer | null | undefined): DecodedRecord | Promise<DecodedRecord> {
    if (!bytes || bytes.length === 0) {
      throw new InputError('EMPTY_RECORD', 'the message has no value (a tombstone or an empty payload)');
    }
    const framed = isConfluentFramed(bytes);
    if (this.wireFormat === 'raw' || (this.wireFormat === 'auto' && !framed)) {
      return { value: this.read(this.raw, bytes, null), schemaId: null };
    }
    if (!framed) {
      throw new InputError(
        'DECODE_FAILED',
        `not Confluent wire format: expected magic byte 0 and a 4-byte schema id, got ${bytes.length} byte(s) ` +
          `starting with 0x${(bytes[0] ?? 0).toString(16).padStart(2, '0')}`,
      );
    }
    const id = bytes.readInt32BE(1);
    const entry = this.cache.get(id);
    if (entry && (entry.kind !== 'failed' || entry.until > Date.now()))
      return this.readFramed(entry, bytes, id);
    return this.lookup(id).then((e) => this.readFramed(e, bytes, id));
  }

  /** Decodes and always returns a promise (for callers that prefer one shape). */
  async decodeAsync(bytes: Buffer | null | undefined): Promise<DecodedRecord> {
    return this.decode(bytes);
  }

  /** Number of writer schema ids with a cached resolver (for tests and metrics). */
  get cachedSchemaIds(): number {
    let n = 0;
    for (const e of this.cache.values()) if (e.kind !== 'failed') n++;
    return n;
  }

  private readFramed(entry: CacheEntry, bytes: Buffer, id: number): DecodedRecord {
    if (entry.kind === 'failed') {
      if (this.wireFormat === 'auto' && entry.error.code === 'UNKNOWN_SCHEMA_ID') {
        // Maybe raw Avro that happens to start with a zero byte.
        try {
          return { value: this.read(this.raw, bytes, null), schemaId: null };
        } catch {
          // Not raw either: report the framing's error, which is the likelier story.
        }
      }
      throw entry.error;
    }
    return { value: this.read(entry, bytes.subarray(CONFLUENT_HEADER_BYTES), id), schemaId: id };
  }

  private read(entry: CacheEntry, body: Buffer, id: number | null): Record<string, unknown> {
    if (entry.kind === 'failed') throw entry.error;
    try {
      const value: unknown =
        entry.kind === 'ready-same'
          ? this.readerSchema.fromBuffer(body)
          : this.readerSchema.fromBuffer(body, entry.resolver);
      if (value === null || typeof value !== 'object') {
        throw new Error('the reader schema is not a record schema');
      }
      return value as Record<string, unknown>;
    } catch (err) {
      throw new InputError(
        'DECODE_FAILED',
        `cannot decode ${body.length} byte(s) of Avro ${id === null ? '(raw)' : `(schema id ${id})`}: ${(err as Error).message}`,
        { cause: err, details: { schemaId: id, bytes: body.length } },
      );
    }
  }

  private lookup(id: number): Promise<CacheEntry> {
    let p = this.pending.get(id);
    if (!p) {
      p = this.fetchEntry(id).then(
        (entry) => {
          this.pending.delete(id);
          this.cache.set(id, entry);
          return entry;
        },
        (err: unknown) => {
          // A lookup that failed for infrastructure reasons is not cached: the caller retries the batch.
          this.pending.delete(id);
          throw err;
        },
      );
      this.pending.set(id, p);
    }
    return p;
  }

  private async fetchEntry(id: number): Promise<CacheEntry> {
    const writer = this.resolveSchemaId ? await this.resolveSchemaId(id) : undefined;
    if (!writer) {
      return {
        kind: 'failed',
        until: Date.now() + this.unknownIdRetryMs,
        error: new InputError(
          'UNKNOWN_SCHEMA_ID',
          this.resolveSchemaId
            ? `schema id ${id} is not known to the schema resolver; register the producer's schema or configure its id`
            : `the record names schema id ${id} but no schema id resolver is configured; configure one or send raw Avro`,
          { details: { schemaId: id } },
        ),
      };
    }
    return this.buildEntry(writer, id);
  }

  /** Builds the writer→reader resolution; an irreconcilable pair is cached as SCHEMA_MISMATCH. */
  private buildEntry(writer: AvroType, id: number | null): CacheEntry {
    if (writer.equals(this.readerSchema)) return { kind: 'ready-same' };
    try {
      return {
        kind: 'ready',
        resolver: this.readerSchema.createResolver(writer, { ignoreNamespaces: true }),
      };
    } catch (err) {
      const error = new InputError(
        'SCHEMA_MISMATCH',
        `writer schema ${id === null ? '(raw)' : `id ${id}`} cannot be read as the configured reader schema: ` +
          `${(err as Error).message}; give the reader's new fields defaults or fix the producer`,
        { cause: err, details: { schemaId: id } },
      );
      if (id === null) throw error;
      return { kind: 'failed', error, until: Number.POSITIVE_INFINITY };
    }
  }
}
