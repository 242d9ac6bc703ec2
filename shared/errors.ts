/**
 * The one catalogue of the project's errors.
 *
 * Every error the library raises on purpose is an `SmaeError` with a stable `code` from `ERROR_CODES`
 * (a closed union: metrics label by it, the dead-letter topic carries it in a header) and a `retriable`
 * flag that is the retry policy: retriable errors propagate so the client (kafkajs, BullMQ) retries,
 * non-retriable ones are routed (bad input to the dead-letter topic, a bad model refused, a bad job made
 * unrecoverable). Messages say what is wrong and, where it helps, what to do.
 */

export const ERROR_CODES = [
  // Input: a record or a row that cannot become a feature vector. Never retriable.
  'DECODE_FAILED', // bytes are not valid Avro for the writer schema
  'UNKNOWN_SCHEMA_ID', // Confluent wire format names a schema id we cannot resolve
  'SCHEMA_MISMATCH', // writer schema cannot be resolved to the reader schema
  'MISSING_FIELD', // a feature's field is absent or null and no imputation applies
  'NON_FINITE_VALUE', // NaN or ±Infinity in a numeric feature
  'WRONG_TYPE', // a field holds a value of the wrong type for its feature
  'EMPTY_RECORD', // a record with no value bytes (tombstone)
  // Data files and command lines.
  'BAD_DATA_FILE', // missing, unreadable, ragged or featureless CSV
  'BAD_LABEL_COLUMN', // a label column that is absent or not 0/1
  'INVALID_CONFIG', // configuration that fails validation at the edge
  // Models.
  'INTEGRITY_CHECK_FAILED', // an artifact whose digest does not match its content
  'INCOMPATIBLE_MODEL', // an artifact whose feature spec or architecture does not fit
  'MODEL_NOT_FOUND', // no such version, or no current model yet
  'BACKEND_UNAVAILABLE', // a forced TensorFlow.js backend that does not load
  'CALIBRATION_FAILED', // too few or non-finite calibration scores for a threshold policy
  // Registry and jobs.
  'PUBLISH_CONFLICT', // a concurrent publish won; retriable
  'GUARDRAIL_REFUSED', // an adaptation refused by a guardrail
  // Infrastructure.
  'INFRA_UNAVAILABLE', // Kafka or Redis did not answer; retriable
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['PUBLISH_CONFLICT', 'INFRA_UNAVAILABLE']);

export interface SmaeErrorOptions {
  /** The field or path the error is about (a record field, a config key, a CSV column). */
  field?: string;
  /** Extra structured detail, safe to log. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class SmaeError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SmaeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SmaeError';
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    this.field = options.field;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      field: this.field,
      details: this.details,
    };
  }
}

/** A record or row that cannot be turned into features: routed to the dead-letter topic, never thrown past it. */
export class InputError extends SmaeError {
  constructor(code: ErrorCode, message: string, options: SmaeErrorOptions = {}) {
    super(code, message, options);
    this.name = 'InputError';
  }
}

/** A model artifact refused by a reader: the running model stays. */
export class ModelError extends SmaeError {
  constructor(code: ErrorCode, message: string, options: SmaeErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ModelError';
  }
}

/** Configuration that fails validation: carries every failing path, so one run says everything to fix. */
export class ConfigError extends SmaeError {
  readonly issues: readonly { path: string; message: string }[];
  constructor(message: string, issues: readonly { path: string; message: string }[] = []) {
    super('INVALID_CONFIG', message, { details: { issues } });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function isSmaeError(err: unknown): err is SmaeError {
  return err instanceof SmaeError;
}

/** A one-line description of any thrown value, for CLIs and logs. */
export function describeError(err: unknown): string {
  if (err instanceof ConfigError && err.issues.length > 0) {
    return `${err.message}: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
  }
  if (err instanceof SmaeError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
