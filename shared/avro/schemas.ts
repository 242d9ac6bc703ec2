/**
 * The Avro schemas the pipeline owns, and the loader for the ones users configure.
 *
 * The input record schema is configuration (an `.avsc` file the user points the scorer and trainer at);
 * the output schemas (flags, scores) belong to the pipeline and live in `shared/avro/schemas/`, so that
 * downstream consumers can read them from the repository. `transaction.avsc` is an example input schema
 * used by tests, the demo and the benchmark.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { ConfigError } from '../errors.js';

export type AvroType = avro.Type;
export type AvroSchema = avro.Schema;

/** Directory of the bundled `.avsc` files. */
export const SCHEMAS_DIR = fileURLToPath(new URL('./schemas/', import.meta.url));

/** Builds an avsc Type from a schema object or JSON text; a bad schema is a configuration error. */
export function parseSchema(schema: AvroSchema | string, source = 'schema'): AvroType {
  let parsed: unknown = schema;
  if (typeof schema === 'string') {
    try {
      parsed = JSON.parse(schema);
    } catch (err) {
      throw new ConfigError(`${source} is not valid JSON`, [
        { path: source, message: `fix the JSON syntax: ${(err as Error).message}` },
      ]);
    }
  }
  try {
    return avro.Type.forSchema(parsed as AvroSchema);
  } catch (err) {
    throw new ConfigError(`${source} is not a valid Avro schema`, [
      { path: source, message: `fix the schema: ${(err as Error).message}` },
    ]);
  }
}

/** Reads an `.avsc` file into an avsc Type (synchronously: schemas are read once, at start). */
export function loadSchemaFile(path: string): AvroType {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read Avro schema file ${path}`, [
      { path, message: `check the path and permissions: ${(err as Error).message}` },
    ]);
  }
  return parseSchema(text, path);
}

/** Path of a bundled schema, e.g. `bundledSchemaPath('flag')`. */
export function bundledSchemaPath(name: 'flag' | 'score' | 'transaction'): string {
  return `${SCHEMAS_DIR}${name}.avsc`;
}

/** The flag record (`schemas/flag.avsc`). */
export const FLAG_SCHEMA: AvroType = loadSchemaFile(bundledSchemaPath('flag'));
/** The optional per-record score record (`schemas/score.avsc`). */
export const SCORE_SCHEMA: AvroType = loadSchemaFile(bundledSchemaPath('score'));
/** The bundled example input record (`schemas/transaction.avsc`). */
export const TRANSACTION_SCHEMA: AvroType = loadSchemaFile(bundledSchemaPath('transaction'));

export interface FeatureContributionRecord {
  name: string;
  value: number;
  expected: number;
  share: number;
}

/** What flag and score records both say: which input record was scored, and its score. */
export interface ScoredRecordFields {
  pipeline: string;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  eventTime: number;
  score: number;
  threshold: number;
  modelVersion: number | null;
  /** The threshold policy's kind; null from models (and flags) before policies. */
  thresholdPolicy: string | null;
  /** The policy's p-value or tail probability of the score, where it has one. */
  pValue: number | null;
}

/** A flag as written to the flags topic. */
export interface FlagRecord extends ScoredRecordFields {
  topFeatures: FeatureContributionRecord[];
  flaggedAt: number;
}

/** A score as written to the optional scores topic. */
export interface ScoreRecord extends ScoredRecordFields {
  isAnomaly: boolean;
  scoredAt: number;
}

/** The example input record (`transaction.avsc`). */
export interface TransactionRecord {
  accountId: string;
  eventTime: number;
  amount: number;
  merchantRisk: number;
  distanceKm: number | null;
  hourOfDay: number;
  itemCount: number;
  channel: string;
}

export interface ColumnsSchemaOptions {
  /** Record name (an Avro name: letters, digits, underscores). */
  name: string;
  namespace?: string;
  /** Numeric columns, written as `double`. */
  numeric: readonly string[];
  /** Categorical columns, written as `string`. */
  categorical?: readonly string[];
  /** An optional entity-key field (`string`). */
  keyField?: string;
  /** An optional event-time field (`long`, timestamp-millis). */
  timeField?: string;
}

/**
 * A flat record schema for tabular data (a CSV's columns), so a data set can be replayed onto a topic
 * without writing an `.avsc` by hand. Column names that are not Avro names are refused with the name.
 */
export function recordSchemaForColumns(opts: ColumnsSchemaOptions): AvroType {
  const fields: { name: string; type: unknown }[] = [];
  if (opts.keyField) fields.push({ name: opts.keyField, type: 'string' });
  if (opts.timeField)
    fields.push({ name: opts.timeField, type: { type: 'long', logicalType: 'timestamp-millis' } });
  for (const c of opts.numeric) fields.push({ name: c, type: 'double' });
  for (const c of opts.categorical ?? []) fields.push({ name: c, type: 'string' });
  const bad = fields.filter((f) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name));
  if (bad.length > 0) {
    throw new ConfigError(
      'column names are not valid Avro field names',
      bad.map((f) => ({ path: f.name, message: 'rename the column to letters, digits and underscores' })),
    );
  }
  return parseSchema(
    { type: 'record', name: opts.name, namespace: opts.namespace ?? 'smae.data', fields } as AvroSchema,
    `record schema ${opts.name}`,
  );
}
