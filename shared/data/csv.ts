/**
 * Loading a tabular data file (CSV with a header row) for offline evaluation and batch scoring.
 *
 * Cells that read as finite numbers become numbers (JavaScript's `Number` parse is round-trip exact
 * for float64, so values match the files bit for bit); other cells stay strings, and an empty cell
 * stays `''` so the preprocessing can report it as missing, naming the field. A label column, when
 * named, is taken out of the rows: it is never a feature.
 *
 * Everything wrong with the file itself (missing, unreadable, not CSV, ragged, no numeric column) is
 * one `BAD_DATA_FILE` error; a label column that is absent or holds anything but 0/1 is
 * `BAD_LABEL_COLUMN`. Both carry a message a user can act on.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { SmaeError } from '../errors.js';

export type CellValue = number | string;
export type DataRow = Record<string, CellValue>;

export interface LoadCsvOptions {
  /** The column holding 0/1 labels (1 = anomaly). It is removed from the feature columns and rows. */
  labelColumn?: string;
  /**
   * When true (the default), a named label column that is absent is an error. When false, an absent
   * label column is fine (`labels` is then undefined) but a present one is still checked and removed:
   * a file's labels never leak into the features.
   */
  labelRequired?: boolean;
}

export interface CsvTable {
  /** Feature columns in file order (the label column excluded). */
  columns: string[];
  /** Columns whose non-empty cells are all finite numbers (at least one non-empty cell). */
  numericColumns: string[];
  rows: DataRow[];
  /** One 0/1 per row, when a label column was named and present. */
  labels?: Uint8Array;
  /** The label column actually used, when labels are present. */
  labelColumn?: string;
}

/** Reads and parses a CSV file; see the module comment for the typing rules and errors. */
export async function loadCsv(path: string, options: LoadCsvOptions = {}): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new SmaeError('BAD_DATA_FILE', `cannot read data file ${path}: ${reason}`, {
      field: path,
      cause: err,
    });
  }
  return parseCsv(text, options, path);
}

/** Parses CSV text (the same rules as `loadCsv`); `source` names the data in error messages. */
export function parseCsv(text: string, options: LoadCsvOptions = {}, source = 'data'): CsvTable {
  const records = csvRecords(text, source);
  const header = records[0]!;
  checkHeader(header, source);
  if (records.length < 2) {
    throw new SmaeError('BAD_DATA_FILE', `${source} has a header but no data rows`, { field: source });
  }
  const labelIndex = labelIndexOf(header, options, source);
  const featureIdx = header.map((_, i) => i).filter((i) => i !== labelIndex);
  const columns = featureIdx.map((i) => header[i]!);
  const { rows, numericColumns } = readRows(records, featureIdx, columns);
  if (numericColumns.length === 0) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${source} has no numeric feature column (columns: ${columns.join(', ') || 'none besides the label'})`,
      { field: source },
    );
  }
  const table: CsvTable = { columns, numericColumns, rows };
  if (labelIndex >= 0) {
    const labelName = options.labelColumn!;
    table.labels = readLabels(records, labelIndex, labelName, source);
    table.labelColumn = labelName;
  }
  return table;
}

/** The file's records, header first; not CSV, ragged or empty is `BAD_DATA_FILE`. */
function csvRecords(text: string, source: string): string[][] {
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: false,
    }) as string[][];
  } catch (err) {
    throw new SmaeError('BAD_DATA_FILE', `${source} is not a well-formed CSV file: ${csvReason(err)}`, {
      field: source,
      cause: err,
    });
  }
  if (records.length === 0) {
    throw new SmaeError(
      'BAD_DATA_FILE',
      `${source} is empty (a header row and at least one data row are needed)`,
      { field: source },
    );
  }
  return records;
}

/** Every column named, and each name once. */
function checkHeader(header: readonly string[], source: string): void {
  const seen = new Set<string>();
  for (const name of header) {
    if (name === '') throw new SmaeError('BAD_DATA_FILE', `${source} has an empty column name in its header`);
    if (seen.has(name)) throw new SmaeError('BAD_DATA_FILE', `${source} names column "${name}" twice`);
    seen.add(name);
  }
}

/** The label column's index, −1 when none is named (or it is absent and not required). */
function labelIndexOf(header: readonly string[], options: LoadCsvOptions, source: string): number {
  const labelName = options.labelColumn;
  if (labelName === undefined) return -1;
  const index = header.indexOf(labelName);
  if (index < 0 && (options.labelRequired ?? true)) {
    throw new SmaeError(
      'BAD_LABEL_COLUMN',
      `${source} has no label column "${labelName}" (columns: ${header.join(', ')}); name another with --label-column`,
      { field: labelName },
    );
  }
  return index;
}

/** The data rows as typed cells (numbers where they read as finite numbers), and the numeric columns. */
function readRows(
  records: readonly string[][],
  featureIdx: readonly number[],
  columns: readonly string[],
): { rows: DataRow[]; numericColumns: string[] } {
  const numeric = featureIdx.map(() => true);
  const nonEmpty = featureIdx.map(() => 0);
  const n = records.length - 1;
  const rows: DataRow[] = new Array<DataRow>(n);
  for (let r = 0; r < n; r++) {
    const rec = records[r + 1]!;
    const row: DataRow = {};
    for (let k = 0; k < featureIdx.length; k++) {
      const cell = rec[featureIdx[k]!]!;
      if (cell === '') {
        row[columns[k]!] = '';
        continue;
      }
      nonEmpty[k]!++;
      const v = Number(cell);
      if (Number.isFinite(v)) {
        row[columns[k]!] = v;
      } else {
        row[columns[k]!] = cell;
        numeric[k] = false;
      }
    }
    rows[r] = row;
  }
  return { rows, numericColumns: columns.filter((_, k) => numeric[k] && nonEmpty[k]! > 0) };
}

/** One 0/1 per data row; anything else is `BAD_LABEL_COLUMN`, naming the line. */
function readLabels(
  records: readonly string[][],
  labelIndex: number,
  labelName: string,
  source: string,
): Uint8Array {
  const labels = new Uint8Array(records.length - 1);
  for (let r = 0; r < labels.length; r++) {
    const cell = records[r + 1]![labelIndex]!;
    const v = Number(cell);
    if (cell === '' || (v !== 0 && v !== 1)) {
      throw new SmaeError(
        'BAD_LABEL_COLUMN',
        `label column "${labelName}" of ${source} must hold 0 or 1 (1 = anomaly); line ${r + 2} has "${cell}"`,
        { field: labelName, details: { line: r + 2, value: cell } },
      );
    }
    labels[r] = v;
  }
  return labels;
}

/** csv-parse's messages are long and quote internals; keep the part that says where and what. */
function csvReason(err: unknown): string {
  const e = err as { code?: string; lines?: number; message?: string };
  if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' || e.code === 'CSV_INCONSISTENT_RECORD_LENGTH') {
    return `ragged rows: line ${e.lines ?? '?'} has a different number of fields than the header`;
  }
  const msg = (e.message ?? String(err)).split('\n')[0]!;
  return msg.replace(/^Invalid Record Length: /, 'ragged rows: ');
}
