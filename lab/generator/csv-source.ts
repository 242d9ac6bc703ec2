/**
 * A user's CSV file as a labelled event stream (`npm run demo -- --data FILE.csv`).
 *
 * The file is read with the project's CSV loader (numbers become numbers, a label column is taken out of
 * the features). The first rows are the training part; the rest streams in file order. Ground truth:
 * - a file with a 0/1 label column uses its labels (labelled anomalies in the training part are left out
 *   of it: the first model learns normal rows only);
 * - a file without one gets the report's injected anomalies (variants A and B) in its streamed part.
 *
 * Column names become Avro field names; a name Avro does not accept is rewritten (invalid characters to
 * `_`, a leading digit prefixed), and two columns that would collide are an error naming both.
 */
import { SmaeError } from '../../shared/errors.js';
import { loadCsv, type CsvTable } from '../../shared/data/csv.js';
import { injectAnomaly, type AnomalyVariant } from './anomalies.js';
import type { AvroRecordSchema, EventSource, LabelledEvent, SourceFeature } from './events.js';
import { SeededRandom, deriveSeed } from '../../shared/random.js';

export interface CsvSourceOptions {
  path: string;
  /** The 0/1 label column, if the file has one (default `label`; absent is fine). */
  labelColumn: string;
  /** A column whose values become the Kafka key; default: the row number. */
  keyColumn?: string;
  /** Share of the rows that form the training part (default 0.3). */
  trainShare: number;
  /** Injected anomaly share in the streamed part, for files without labels. */
  anomalyShare: number;
  variantAShare: number;
  seed: number;
  /** Cap on the number of streamed rows (after the training part). */
  maxRecords?: number;
  startTime: number;
  eventIntervalMs: number;
}

export const CSV_SOURCE_DEFAULTS: Omit<CsvSourceOptions, 'path'> = {
  labelColumn: 'label',
  trainShare: 0.3,
  anomalyShare: 0.05,
  variantAShare: 0.5,
  seed: 42,
  startTime: Date.UTC(2024, 0, 1),
  eventIntervalMs: 60_000,
};

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An Avro-safe field name for a CSV column. */
export function avroFieldName(column: string): string {
  if (AVRO_NAME.test(column)) return column;
  const cleaned = column.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

export async function csvSource(options: Partial<CsvSourceOptions> & { path: string }): Promise<EventSource> {
  const o: CsvSourceOptions = { ...CSV_SOURCE_DEFAULTS, ...options };
  if (!(o.trainShare > 0 && o.trainShare < 1)) throw new RangeError('trainShare must lie in (0, 1)');
  const table = await loadCsv(o.path, { labelColumn: o.labelColumn, labelRequired: false });
  return tableSource(table, o);
}

/** Builds the source from an already parsed table (tests use it without a file). */
export function tableSource(table: CsvTable, o: CsvSourceOptions): EventSource {
  const fieldOf = new Map<string, string>();
  const byField = new Map<string, string>();
  for (const column of table.columns) {
    const field = avroFieldName(column);
    const other = byField.get(field);
    if (other !== undefined) {
      throw new SmaeError(
        'BAD_DATA_FILE',
        `columns "${other}" and "${column}" of ${o.path} both map to the Avro field name "${field}"; rename one`,
        { field: column },
      );
    }
    byField.set(field, column);
    fieldOf.set(column, field);
  }
  if (o.keyColumn !== undefined && !table.columns.includes(o.keyColumn)) {
    throw new SmaeError('BAD_DATA_FILE', `${o.path} has no key column "${o.keyColumn}"`, {
      field: o.keyColumn,
    });
  }

  const numeric = new Set(table.numericColumns);
  const features: SourceFeature[] = table.columns
    .filter((c) => c !== o.keyColumn)
    .map((c) => ({ kind: numeric.has(c) ? 'numeric' : 'categorical', name: fieldOf.get(c)! }));
  const schema: AvroRecordSchema = {
    type: 'record',
    name: 'CsvRow',
    namespace: 'smae.demo',
    doc: `Rows of ${o.path}`,
    fields: table.columns.map((c) => ({
      name: fieldOf.get(c)!,
      type: numeric.has(c) ? ['null', 'double'] : ['null', 'string'],
      default: null,
    })),
  };

  const n = table.rows.length;
  const trainRecords = Math.max(1, Math.min(n - 1, Math.round(n * o.trainShare)));
  const streamRecords = Math.min(n - trainRecords, o.maxRecords ?? Number.POSITIVE_INFINITY);
  const numericFields = table.numericColumns.map((c) => fieldOf.get(c)!);
  const labels = table.labels;

  async function* events(): AsyncGenerator<LabelledEvent> {
    const inject = new SeededRandom(deriveSeed(o.seed, 'csv-anomalies'));
    const end = trainRecords + streamRecords;
    for (let i = 0; i < end; i++) {
      const row = table.rows[i]!;
      const record: Record<string, unknown> = {};
      for (const column of table.columns) {
        const v = row[column];
        record[fieldOf.get(column)!] = v === '' || v === undefined ? null : v;
      }
      const key = o.keyColumn !== undefined ? String(row[o.keyColumn]) : `row-${i}`;
      const eventTime = o.startTime + i * o.eventIntervalMs;
      const training = i < trainRecords;
      let label: 0 | 1 = 0;
      let variant: AnomalyVariant | null = null;
      if (labels) {
        label = labels[i] === 1 ? 1 : 0;
        if (training && label === 1) continue; // the first model learns normal rows only
      } else if (!training) {
        if (inject.next() < o.anomalyShare) {
          variant = inject.next() < o.variantAShare ? 'A' : 'B';
          injectAnomaly(record, numericFields, variant, inject);
          label = 1;
        }
      }
      yield { index: i, key, record, eventTime, label, phase: training ? 'train' : 'stream', variant };
    }
  }

  return {
    description: `file:${o.path}${labels ? ` (labels: ${table.labelColumn})` : ' (injected anomalies)'}`,
    schema,
    features,
    trainRecords,
    streamRecords,
    events,
  };
}
