/**
 * Reading one field of a record as a numeric or categorical value, with the typed errors the pipeline
 * routes to its dead-letter topic. Records come from Avro (numbers, strings, booleans, null), JSON or CSV
 * (everything a string), so numeric strings such as "3.5" count as numbers.
 */
import { InputError } from '../errors.js';

/** Marks an absent, null, undefined or empty value. */
export const MISSING = Symbol('missing');

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

export function fieldValue(record: Record<string, unknown>, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

/** A number (possibly NaN or ±Infinity) or MISSING; WRONG_TYPE for anything that is not a number. */
export function readNumeric(value: unknown, field: string): number | typeof MISSING {
  if (typeof value === 'number') return value;
  if (value === undefined || value === null) return MISSING;
  if (typeof value === 'string') {
    const s = value.trim();
    if (s === '') return MISSING;
    if (NUMERIC.test(s)) return Number(s);
    if (NON_FINITE.test(s)) {
      const lower = s.toLowerCase();
      return lower.includes('nan') ? Number.NaN : lower.startsWith('-') ? -Infinity : Infinity;
    }
    throw wrongType(field, value, 'a number');
  }
  if (typeof value === 'bigint') return Number(value);
  throw wrongType(field, value, 'a number');
}

/** A category label or MISSING; strings, numbers, booleans and bigints are stringified. */
export function readCategory(value: unknown, field: string): string | typeof MISSING {
  if (value === undefined || value === null) return MISSING;
  if (typeof value === 'string') return value === '' ? MISSING : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  throw wrongType(field, value, 'a string, number or boolean');
}

export function missingField(field: string): InputError {
  return new InputError(
    'MISSING_FIELD',
    `field "${field}" is missing (absent, null or empty) and no imputation applies`,
    {
      field,
    },
  );
}

export function nonFinite(field: string, value: number): InputError {
  return new InputError('NON_FINITE_VALUE', `field "${field}" is ${String(value)}, not a finite number`, {
    field,
    details: { value: String(value) },
  });
}

function wrongType(field: string, value: unknown, expected: string): InputError {
  return new InputError('WRONG_TYPE', `field "${field}" holds ${describe(value)}, expected ${expected}`, {
    field,
    details: { type: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value },
  });
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
