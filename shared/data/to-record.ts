/**
 * CSV rows as Avro records of a given record schema (for replaying a CSV file onto a topic with
 * `smae produce`): each field takes the column of its name, converted to the field's type — numbers for
 * `double`/`float`/`int`/`long`, text for `string`/`enum`, `true`/`false`/`1`/`0` for `boolean`, an
 * empty cell as null where the field is nullable. A `long` field also takes ISO-8601 date-time text
 * (as epoch milliseconds: an event time written as text); one declared `timestamp-millis` in the schema's
 * JSON (`schemaJson`: avsc drops logical types it does not implement) also takes epoch seconds (a number
 * below 10^11) and multiplies them by 1000. Anything else is a
 * `BAD_DATA_FILE` error naming the line, the column and what the field needs.
 */
import { SmaeError } from '../errors.js';
import type { AvroType } from '../avro/schemas.js';

interface FieldPlan {
  name: string;
  /** Avro primitive or named type of the non-null branch. */
  type: string;
  nullable: boolean;
  timestampMillis?: boolean;
  symbols?: string[];
}

/** Converts rows of one file to records of `type`; build once, call per row. */
export function rowConverter(
  type: AvroType,
  source = 'data',
  schemaJson?: unknown,
): (row: Record<string, unknown>, line: number) => Record<string, unknown> {
  const schema = (schemaJson ?? type.schema({ exportAttrs: true })) as {
    type: string;
    fields?: { name: string; type: unknown }[];
  };
  if (schema.type !== 'record' || !Array.isArray(schema.fields)) {
    throw new SmaeError('INVALID_CONFIG', `the record schema must be an Avro record, got ${schema.type}`);
  }
  const plans = schema.fields.map(fieldPlan);
  return (row, line) => {
    const out: Record<string, unknown> = {};
    for (const p of plans) out[p.name] = convert(p, row[p.name], line, source);
    return out;
  };
}

function fieldPlan(f: { name: string; type: unknown }): FieldPlan {
  let t: unknown = f.type;
  let nullable = false;
  if (Array.isArray(t)) {
    const branches = t.filter((b) => b !== 'null');
    nullable = branches.length < t.length;
    t = branches.length === 1 ? branches[0] : { type: 'union' };
  }
  if (typeof t === 'string') return { name: f.name, type: t, nullable };
  const o = t as { type: string; symbols?: string[]; logicalType?: string };
  return {
    name: f.name,
    type: o.type,
    nullable,
    ...(o.type === 'long' && o.logicalType === 'timestamp-millis' ? { timestampMillis: true } : {}),
    ...(o.symbols ? { symbols: o.symbols } : {}),
  };
}

function convert(p: FieldPlan, v: unknown, line: number, source: string): unknown {
  const empty = v === undefined || v === null || v === '';
  const fail = (needs: string): never => {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${source} line ${line}, column "${p.name}": ${empty ? 'no value' : JSON.stringify(v)} cannot be a ${needs}`,
      { field: p.name, details: { line } },
    );
  };
  if (empty) {
    if (p.nullable) return null;
    return fail(`${p.type} (the field is not nullable)`);
  }
  switch (p.type) {
    case 'double':
    case 'float':
    case 'int':
    case 'long': {
      if (p.type === 'long' && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v.trim())) {
        const ms = Date.parse(v.trim().replace(' ', 'T'));
        return Number.isFinite(ms) ? ms : fail('timestamp (ISO-8601 text or epoch milliseconds)');
      }
      const n = typeof v === 'number' ? v : Number(String(v).trim());
      if (!Number.isFinite(n)) return fail(p.type);
      if (p.timestampMillis && Math.abs(n) < 1e11) return Math.round(n * 1000); // epoch seconds
      if ((p.type === 'int' || p.type === 'long') && !Number.isInteger(n))
        return fail(`${p.type} (a whole number)`);
      return n;
    }
    case 'string':
      return String(v);
    case 'enum':
      return p.symbols?.includes(String(v))
        ? String(v)
        : fail(`symbol of ${p.symbols?.join('|') ?? 'the enum'}`);
    case 'boolean': {
      const s = String(v).trim().toLowerCase();
      if (s === 'true' || s === '1') return true;
      if (s === 'false' || s === '0') return false;
      return fail('boolean (true/false or 1/0)');
    }
    default:
      return fail(`${p.type} (not produced from CSV cells)`);
  }
}
