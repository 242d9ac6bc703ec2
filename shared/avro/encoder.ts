/**
 * Avro encoding of the pipeline's outputs (and of records for producers, tests and the demo), raw or in
 * the Confluent wire format (magic byte 0, the schema id as a 4-byte big-endian int, then the body).
 *
 * `encodeRecord` returns a buffer of its own per value. `RecordWriter` is for the scorer's hot path, where
 * a batch produces one output per record: it writes each value straight into a shared chunk and returns a
 * view of it, so a record costs no allocation of its own and no copy (avsc's `toBuffer` allocates a
 * zero-filled buffer and copies into it, and framing copied once more). A chunk is never written twice:
 * when one is full the writer starts a new one, and views already handed out keep theirs alive.
 */
import { InputError } from '../errors.js';
import { CONFLUENT_HEADER_BYTES, CONFLUENT_MAGIC_BYTE } from './decoder.js';
import type { AvroType } from './schemas.js';

export interface EncodeOptions {
  /** Frame the body in the Confluent wire format with this schema id; raw Avro when absent. */
  schemaId?: number;
}

/**
 * Encodes a value into a buffer of its own. A value that does not fit the schema is an `InputError`
 * (`WRONG_TYPE`) naming the offending paths.
 */
export function encodeRecord(type: AvroType, value: object, opts: EncodeOptions = {}): Buffer {
  let body: Buffer;
  try {
    body = type.toBuffer(value);
  } catch (err) {
    throw wrongType(type, value, err);
  }
  if (opts.schemaId === undefined) return body;
  const out = Buffer.allocUnsafe(CONFLUENT_HEADER_BYTES + body.length);
  writeHeader(out, 0, checkedSchemaId(opts.schemaId));
  body.copy(out, CONFLUENT_HEADER_BYTES);
  return out;
}

/** Chunk size of a `RecordWriter`: many small records per allocation; a larger record gets a chunk of its size. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Encodes many values into shared chunks; each `write` returns a view of its bytes (see the module
 * comment). Same output and errors as `encodeRecord`.
 */
export class RecordWriter {
  private chunk: Buffer = Buffer.allocUnsafe(0);
  private pos = 0;

  write(type: AvroType, value: object, opts: EncodeOptions = {}): Buffer {
    const header = opts.schemaId === undefined ? 0 : CONFLUENT_HEADER_BYTES;
    const schemaId = opts.schemaId === undefined ? undefined : checkedSchemaId(opts.schemaId);
    for (;;) {
      const start = this.pos;
      let end: number;
      try {
        end = type.encode(value, this.chunk, start + header);
      } catch (err) {
        throw wrongType(type, value, err);
      }
      if (end >= start + header && end <= this.chunk.length) {
        if (schemaId !== undefined) writeHeader(this.chunk, start, schemaId);
        this.pos = end;
        return this.chunk.subarray(start, end);
      }
      // Too small: avsc returns minus the bytes missing. Start a chunk that holds at least this value.
      const needed = header + (this.chunk.length - start - header) - end;
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, 2 * needed));
      this.pos = 0;
    }
  }
}

function checkedSchemaId(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
    throw new RangeError(`schemaId must be an integer in [0, 2^31-1], got ${id}`);
  }
  return id;
}

function writeHeader(buf: Buffer, at: number, schemaId: number): void {
  buf[at] = CONFLUENT_MAGIC_BYTE;
  buf.writeInt32BE(schemaId, at + 1);
}

function wrongType(type: AvroType, value: object, cause: unknown): InputError {
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
  return new InputError(
    'WRONG_TYPE',
    `value does not match schema ${type.name ?? type.typeName}` +
      (paths.length ? ` at ${paths.join(', ')}` : ''),
    { cause, field: paths[0], details: { paths } },
  );
}
