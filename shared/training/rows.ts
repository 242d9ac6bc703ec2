/**
 * Training data from either source, in one shape: rows keyed by column, the feature columns in order,
 * and a description of where they came from (recorded in the manifest's `training.source`).
 *
 * CSV files are read by `shared/data/csv.ts` (numbers parsed round-trip exact, the label column taken
 * out). Kafka records are mapped field by field so that a record and the CSV line it was made from give
 * the same row: numbers stay numbers, strings stay strings, null becomes '' (missing, as an empty CSV
 * cell), booleans become 'true'/'false' (what a CSV would hold). Fields of other shapes (bytes, arrays,
 * nested records) cannot be features and are left out, with a log line naming them.
 */
import { loadCsv } from '../data/csv.js';
import { SmaeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { TopicRecord } from './topic-source.js';

export type TrainingRow = Record<string, number | string>;

export interface TrainingData {
  rows: TrainingRow[];
  /** Feature candidates, in file or schema order (label and excluded columns left out). */
  columns: string[];
  /** e.g. `csv:/data/x.csv` or `kafka:orders.records[last 5000]`. */
  source: string;
  /** Records or lines that could not be used. */
  skipped: number;
}

export interface ColumnFilter {
  /** Never a feature (and checked to be 0/1 for CSV files when present). */
  labelColumn?: string;
  /** Further columns that are not features (keys, timestamps, ids). */
  exclude?: readonly string[];
  /** Exactly these columns, in this order (a feature spec's); each must be in the data. */
  columns?: readonly string[];
}

/** The chosen columns: `filter.columns` when given (all present), else the available ones minus exclusions. */
function chooseColumns(
  available: readonly string[],
  excluded: ReadonlySet<string>,
  filter: ColumnFilter,
  source: string,
): string[] {
  if (filter.columns === undefined) return available.filter((c) => !excluded.has(c));
  const missing = filter.columns.filter((c) => !available.includes(c));
  if (missing.length > 0) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${source} has no column ${missing.map((c) => `"${c}"`).join(', ')} named by the feature spec (it has ${available.join(', ')}); fix the spec or the data`,
      { details: { missing } },
    );
  }
  return [...filter.columns];
}

export async function rowsFromCsv(path: string, filter: ColumnFilter = {}): Promise<TrainingData> {
  const table = await loadCsv(path, {
    ...(filter.labelColumn !== undefined ? { labelColumn: filter.labelColumn } : {}),
    labelRequired: false,
  });
  const excluded = new Set(filter.exclude ?? []);
  const columns = chooseColumns(table.columns, excluded, filter, path);
  if (columns.length === 0) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${path} has no feature columns left after excluding ${[...excluded].join(', ')}`,
    );
  }
  const rows =
    excluded.size === 0 && filter.columns === undefined
      ? table.rows
      : table.rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]!] as const)) as TrainingRow);
  return { rows, columns, source: `csv:${path}`, skipped: 0 };
}

/** Maps decoded records to rows; the columns are the first record's usable fields, in schema order. */
export function rowsFromRecords(
  records: readonly TopicRecord[],
  filter: ColumnFilter & { source: string; skipped?: number; logger?: Logger },
): TrainingData {
  const log = filter.logger ?? silentLogger;
  if (records.length === 0) {
    throw new SmaeError('BAD_DATA_FILE', `${filter.source} gave no usable records to train on`);
  }
  const excluded = new Set([...(filter.exclude ?? []), ...(filter.labelColumn ? [filter.labelColumn] : [])]);
  const first = records[0]!.value;
  const unusable = Object.keys(first).filter((k) => !excluded.has(k) && cell(first[k]) === undefined);
  if (unusable.length > 0)
    log.info({ fields: unusable }, 'record fields that cannot be features are left out');
  const columns = chooseColumns(
    Object.keys(first).filter((k) => cell(first[k]) !== undefined),
    excluded,
    filter,
    filter.source,
  );
  if (columns.length === 0) {
    throw new SmaeError('BAD_DATA_FILE', `${filter.source}: the records have no usable feature fields`);
  }
  const rows = records.map((r) => {
    const row: TrainingRow = {};
    for (const c of columns) row[c] = cell(r.value[c]) ?? '';
    return row;
  });
  return { rows, columns, source: filter.source, skipped: filter.skipped ?? 0 };
}

function cell(v: unknown): number | string | undefined {
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}
