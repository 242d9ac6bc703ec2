/**
 * What `smae init` guesses about a user's data: from column names and sample rows (a CSV file's, or
 * records decoded from a topic), which columns are model features (numeric or categorical), which one
 * identifies the entity a record is about (the key), which one holds the event time, which are left
 * out and why. Pure: the command reads the data and writes the files (see `files.ts`).
 *
 * The numeric/categorical decision is the project's one (`inferFeatureSpec`); this module only decides
 * what is *not* a feature before it runs: the label, a key, an event time, identifiers, free text,
 * constant or empty columns, and names Avro cannot carry.
 */
import { ConfigError } from '../errors.js';
import { inferFeatureSpec } from '../preprocessing/infer.js';
import type { FeatureSpec, ScalerKind } from '../preprocessing/spec.js';
import { fieldValue } from '../preprocessing/values.js';

/** A column that is not a feature, and why (printed by `smae init`, kept in features.json). */
export interface LeftOutColumn {
  column: string;
  reason: string;
}

/** How event-time values are written in the data (the producer converts them to epoch milliseconds). */
export type TimeFormat = 'epoch-millis' | 'epoch-seconds' | 'iso-8601';

export interface InferSetupOptions {
  /** The 0/1 label column; never a feature, and not part of live records. Default `label`. */
  labelColumn?: string;
  /** Force the key column (a column name), or `false` for none. Default: a likely one, if any. */
  key?: string | false;
  /** Force the event-time column, or `false` for none. Default: a likely one, if any. */
  eventTime?: string | false;
  /** Columns that are never features. */
  exclude?: readonly string[];
  /** Columns forced to categorical. */
  categorical?: readonly string[];
  /** A non-numeric column with more distinct values than this is an identifier or free text. Default 100. */
  maxCategories?: number;
  scaler?: ScalerKind;
}

export interface InferredSetup {
  /** Feature columns in data order, by kind. */
  numeric: string[];
  categorical: string[];
  keyField: string | null;
  eventTimeField: string | null;
  eventTimeFormat: TimeFormat | null;
  /** The label column, when the data has it (left out of the record schema). */
  labelColumn: string | null;
  /** Feature columns with missing values in the sample: nullable in the schema, imputed by the model. */
  nullable: string[];
  leftOut: LeftOutColumn[];
  /** The feature spec the model trains with (missing values → `impute: 'mean'`). */
  spec: FeatureSpec;
  /** Rows the guesses are based on. */
  sampleRows: number;
}

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TIME_NAME = /(time|timestamp|date|datetime)$|(^|_)(ts|start|end)$|(_at|[a-z]At|Start|End)$/i;
const KEY_NAME =
  /(^|_)(id|key)$|[a-z]Id$|^(account|user|customer|client|device|host|machine|sensor|entity|session|merchant|meter)(_?(id|name|key))?$/i;
/** Epoch seconds and milliseconds between 2001 and 2286. */
const EPOCH_SECONDS = [1e9, 1e10] as const;
const EPOCH_MILLIS = [1e12, 1e13] as const;

interface ColumnProfile {
  name: string;
  present: unknown[];
  missing: number;
  distinct: Set<string>;
  allNumbers: boolean;
  allIntegers: boolean;
  allStringsOrNumbers: boolean;
}

/** The columns as inference goes: their profiles, the ones already placed, and those left out with why. */
interface Sorting {
  columns: readonly string[];
  profiles: Map<string, ColumnProfile>;
  taken: Set<string>;
  leftOut: LeftOutColumn[];
  forcedCategorical: Set<string>;
}

function leave(st: Sorting, column: string, reason: string): void {
  st.leftOut.push({ column, reason });
  st.taken.add(column);
}

export function inferSetup(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  opts: InferSetupOptions = {},
): InferredSetup {
  if (rows.length === 0) {
    throw new ConfigError('cannot infer a setup', [{ path: 'data', message: 'no rows to look at' }]);
  }
  checkNamedColumns(columns, opts);
  const st: Sorting = {
    columns,
    profiles: new Map(columns.map((c) => [c, profile(c, rows)] as const)),
    taken: new Set<string>(),
    leftOut: [],
    forcedCategorical: new Set(opts.categorical ?? []),
  };
  if (typeof opts.key === 'string') {
    if (!AVRO_NAME.test(opts.key)) {
      throw new ConfigError('cannot infer a setup', [
        { path: '--key', message: `"${opts.key}" is not a valid Avro field name: rename the column` },
      ]);
    }
    st.taken.add(opts.key);
  }
  const labelName = opts.labelColumn ?? 'label';
  let labelColumn: string | null = null;
  if (columns.includes(labelName) && opts.key !== labelName) {
    labelColumn = labelName;
    leave(st, labelName, 'the label column (0/1): never a feature, and not part of live records');
  }
  for (const c of columns) {
    if (!st.taken.has(c) && !AVRO_NAME.test(c)) {
      leave(
        st,
        c,
        'not a valid Avro field name: rename it to letters, digits and underscores, not starting with a digit',
      );
    }
  }
  const exclude = new Set(opts.exclude ?? []);
  for (const c of columns) if (!st.taken.has(c) && exclude.has(c)) leave(st, c, 'excluded (--exclude)');

  const { eventTimeField, eventTimeFormat } = chooseEventTime(st, opts);
  const keyField = chooseKey(st, opts);
  const idCategories = leaveOutNonFeatures(st, rows.length, opts.maxCategories ?? 100);

  const featureColumns = columns.filter((c) => !st.taken.has(c));
  if (featureColumns.length === 0) {
    throw new ConfigError('cannot infer a setup', [
      {
        path: 'columns',
        message: `no feature columns left (${st.leftOut.map((l) => `${l.column}: ${l.reason}`).join('; ')})`,
      },
    ]);
  }
  const nullable = featureColumns.filter((c) => st.profiles.get(c)!.missing > 0);
  const spec = inferFeatureSpec(featureColumns, rows, {
    scaler: opts.scaler ?? 'minmax',
    impute: nullable.length > 0 ? 'mean' : 'error',
    categorical: featureColumns.filter((c) => st.forcedCategorical.has(c) || idCategories.includes(c)),
    maxCategories: Number.MAX_SAFE_INTEGER,
  });
  return {
    numeric: spec.features.filter((f) => f.kind === 'numeric').map((f) => f.name),
    categorical: spec.features.filter((f) => f.kind === 'categorical').map((f) => f.name),
    keyField,
    eventTimeField,
    eventTimeFormat,
    labelColumn,
    nullable,
    leftOut: st.leftOut,
    spec,
    sampleRows: rows.length,
  };
}

/** Columns named by options (--key, --event-time, --categorical) must exist; says every missing one. */
function checkNamedColumns(columns: readonly string[], opts: InferSetupOptions): void {
  const issues: { path: string; message: string }[] = [];
  const named: [string, unknown][] = [
    ['--key', opts.key],
    ['--event-time', opts.eventTime],
    ...(opts.categorical ?? []).map((c): [string, unknown] => ['--categorical', c]),
  ];
  for (const [flag, name] of named) {
    if (typeof name === 'string' && !columns.includes(name)) {
      issues.push({ path: flag, message: `no column "${name}" (columns: ${columns.join(', ')})` });
    }
  }
  if (issues.length > 0) throw new ConfigError('cannot infer a setup', issues);
}

/**
 * Event time: the forced column, or the first whose name says time and whose values are timestamps, or
 * else the first whose values are ISO-8601 date strings. Other timestamp columns are left out.
 */
function chooseEventTime(
  st: Sorting,
  opts: InferSetupOptions,
): { eventTimeField: string | null; eventTimeFormat: TimeFormat | null } {
  let eventTimeField: string | null = null;
  let eventTimeFormat: TimeFormat | null = null;
  if (typeof opts.eventTime === 'string') {
    const format = timeFormat(st.profiles.get(opts.eventTime)!, true);
    if (format === null) {
      throw new ConfigError('cannot infer a setup', [
        {
          path: '--event-time',
          message: `column "${opts.eventTime}" does not hold timestamps (epoch seconds or milliseconds, or ISO-8601 text) in every row`,
        },
      ]);
    }
    eventTimeField = opts.eventTime;
    eventTimeFormat = format;
  } else if (opts.eventTime !== false) {
    const candidates = st.columns.filter((c) => !st.taken.has(c));
    const byName = candidates.find(
      (c) => TIME_NAME.test(c) && timeFormat(st.profiles.get(c)!, true) !== null,
    );
    const byValue = candidates.find((c) => timeFormat(st.profiles.get(c)!, false) === 'iso-8601');
    eventTimeField = byName ?? byValue ?? null;
    if (eventTimeField !== null) eventTimeFormat = timeFormat(st.profiles.get(eventTimeField)!, true);
  }
  if (eventTimeField !== null) st.taken.add(eventTimeField);
  for (const c of st.columns) {
    // ISO text anywhere, and epoch numbers under a time-like name: timestamps, not quantities.
    if (
      !st.taken.has(c) &&
      !st.forcedCategorical.has(c) &&
      timeFormat(st.profiles.get(c)!, TIME_NAME.test(c)) !== null
    ) {
      leave(st, c, 'timestamps: not a feature (name it with --event-time if it is the event time)');
    }
  }
  return { eventTimeField, eventTimeFormat };
}

/** Key: the forced column, or the first whose name says identifier and whose values are text or whole numbers. */
function chooseKey(st: Sorting, opts: InferSetupOptions): string | null {
  let keyField: string | null = null;
  if (typeof opts.key === 'string') {
    keyField = opts.key;
  } else if (opts.key !== false) {
    keyField =
      st.columns.find((c) => {
        if (st.taken.has(c) || st.forcedCategorical.has(c) || !KEY_NAME.test(c)) return false;
        const p = st.profiles.get(c)!;
        return (
          p.missing === 0 && p.distinct.size > 1 && p.allStringsOrNumbers && (p.allIntegers || !p.allNumbers)
        );
      }) ?? null;
  }
  if (keyField !== null) st.taken.add(keyField);
  return keyField;
}

/** Leaves out columns that cannot be features; returns the few-valued id columns kept as categories. */
function leaveOutNonFeatures(st: Sorting, rows: number, maxCategories: number): string[] {
  const idCategories: string[] = [];
  for (const c of st.columns) {
    if (st.taken.has(c) || st.forcedCategorical.has(c)) continue;
    const p = st.profiles.get(c)!;
    if (p.present.length === 0) {
      leave(st, c, 'always empty');
    } else if (p.distinct.size === 1 && p.missing === 0) {
      leave(st, c, `constant (always ${JSON.stringify([...p.distinct][0])}): carries no information`);
    } else if (KEY_NAME.test(c) && p.allStringsOrNumbers && (p.allIntegers || !p.allNumbers)) {
      if (p.distinct.size > maxCategories) {
        leave(
          st,
          c,
          `an identifier (${p.distinct.size} distinct values): not a feature (name it with --key to key flags by it)`,
        );
      } else {
        idCategories.push(c); // a few ids (stores, sensors): categories, not quantities
      }
    } else if (!p.allStringsOrNumbers) {
      leave(st, c, 'holds values that are neither numbers nor text (lists, maps, bytes)');
    } else if (!p.allNumbers && p.distinct.size > maxCategories) {
      leave(
        st,
        c,
        `text with ${p.distinct.size} distinct values in ${rows} rows (more than ${maxCategories}): ` +
          'an identifier or free text, not a category (force it with --categorical)',
      );
    }
  }
  return idCategories;
}

function profile(name: string, rows: readonly Record<string, unknown>[]): ColumnProfile {
  const p: ColumnProfile = {
    name,
    present: [],
    missing: 0,
    distinct: new Set(),
    allNumbers: true,
    allIntegers: true,
    allStringsOrNumbers: true,
  };
  for (const r of rows) {
    const v = fieldValue(r, name);
    if (v === undefined || v === null || v === '') {
      p.missing++;
      continue;
    }
    p.present.push(v);
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n === 'number') {
      if (!Number.isInteger(n)) p.allIntegers = false;
      p.distinct.add(String(n));
    } else if (typeof n === 'string') {
      p.allNumbers = false;
      p.allIntegers = false;
      p.distinct.add(n);
    } else if (typeof n === 'boolean') {
      p.allNumbers = false;
      p.allIntegers = false;
      p.distinct.add(String(n));
    } else {
      p.allNumbers = false;
      p.allIntegers = false;
      p.allStringsOrNumbers = false;
    }
  }
  if (p.present.length === 0) {
    p.allNumbers = false;
    p.allIntegers = false;
  }
  return p;
}

/**
 * The timestamp format of a column whose every present value is a timestamp, else null. Numbers count
 * only when `numbersToo` (a column named like a time): epoch seconds or milliseconds in 2001–2286.
 */
function timeFormat(p: ColumnProfile, numbersToo: boolean): TimeFormat | null {
  if (p.present.length === 0 || p.missing > 0) return null;
  if (p.allNumbers) {
    if (!numbersToo || !p.allIntegers) return null;
    const nums = p.present.map(Number);
    if (nums.every((n) => n >= EPOCH_MILLIS[0] && n < EPOCH_MILLIS[1])) return 'epoch-millis';
    if (nums.every((n) => n >= EPOCH_SECONDS[0] && n < EPOCH_SECONDS[1])) return 'epoch-seconds';
    return null;
  }
  return p.present.every((v) => typeof v === 'string' && isIsoDate(v)) ? 'iso-8601' : null;
}

/** `2024-05-01`, `2024-05-01T10:00:00Z`, `2024-05-01 10:00:00+02:00`: text Date.parse reads. */
export function isIsoDate(text: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim()) &&
    Number.isFinite(Date.parse(text.trim().replace(' ', 'T')))
  );
}
