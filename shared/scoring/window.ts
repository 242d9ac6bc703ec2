/**
 * The scorer's recent window: a capped Redis stream (`<redisPrefix>window`) of sampled scored records,
 * from which the adapter draws support sets. The entry format is defined here, once, for both sides.
 *
 * Stream entry fields (all strings, as Redis stores them):
 * - `features`: the decoded record as JSON (raw units, every field of the reader schema);
 * - `score`: the reconstruction MSE; `flagged`: `1` or `0`; `threshold`: the threshold it was compared to;
 * - `key`: the record key (empty when none); `time`: event time, ms since the epoch;
 * - `model`: the version that scored it (empty when unversioned); `source`: `<topic>:<partition>:<offset>`.
 */

export interface WindowEntry {
  features: Record<string, unknown>;
  score: number;
  flagged: boolean;
  threshold: number;
  key: string | null;
  time: number;
  modelVersion: number | null;
  source: string;
}

export const DEFAULT_WINDOW_MAX_LEN = 10_000;

/** Window entries written per second at most, by default (`WindowSampler`). */
export const DEFAULT_WINDOW_MAX_PER_SECOND = 1_000;

/**
 * Keeps the window's write rate under a budget: a token bucket that refills `perSecond` entries a second
 * (holding at most one second's worth), and of a batch larger than what the bucket holds, an evenly spaced
 * sample of that many entries. The window is a sample of recent records for the adapter, so under a
 * backlog it stays a uniform sample of each batch while costing a bounded amount: writing one entry to
 * Redis (JSON, XADD) costs the scorer more CPU than decoding, scoring and producing its record.
 */
export class WindowSampler {
  private tokens: number;
  private last: number;

  /** `perSecond` 0 means no limit. */
  constructor(
    readonly perSecond: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    if (!(perSecond >= 0 && Number.isFinite(perSecond)))
      throw new RangeError(`perSecond must be a finite number ≥ 0, got ${perSecond}`);
    this.tokens = perSecond;
    this.last = now();
  }

  /** The entries to write now: all of them within the budget, else an evenly spaced sample. */
  take<T>(entries: readonly T[]): readonly T[] {
    if (this.perSecond === 0) return entries;
    const t = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    const k = Math.min(entries.length, Math.floor(this.tokens));
    this.tokens -= k;
    if (k === entries.length) return entries;
    const n = entries.length;
    return Array.from({ length: k }, (_, i) => entries[Math.floor(((i + 0.5) * n) / k)]!);
  }
}

export function windowStreamKey(redisPrefix: string): string {
  return `${redisPrefix}window`;
}

/** Field/value pairs for XADD. */
export function encodeWindowEntry(e: WindowEntry): string[] {
  return [
    'features',
    JSON.stringify(e.features, jsonSafe),
    'score',
    String(e.score),
    'flagged',
    e.flagged ? '1' : '0',
    'threshold',
    String(e.threshold),
    'key',
    e.key ?? '',
    'time',
    String(e.time),
    'model',
    e.modelVersion === null ? '' : String(e.modelVersion),
    'source',
    e.source,
  ];
}

/** Parses the field list XRANGE/XREVRANGE return for one entry; undefined if it is not a window entry. */
export function decodeWindowEntry(fields: readonly string[]): WindowEntry | undefined {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
  const features = m.get('features');
  const score = Number(m.get('score'));
  if (features === undefined || !Number.isFinite(score)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(features);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const model = m.get('model');
  const key = m.get('key');
  return {
    features: parsed as Record<string, unknown>,
    score,
    flagged: m.get('flagged') === '1',
    threshold: Number(m.get('threshold')),
    key: key === undefined || key === '' ? null : key,
    time: Number(m.get('time')),
    modelVersion: model === undefined || model === '' ? null : Number(model),
    source: m.get('source') ?? '',
  };
}

/** Buffers (Avro bytes fields) as base64, so the JSON stays readable and parseable. */
function jsonSafe(_key: string, v: unknown): unknown {
  if (
    v &&
    typeof v === 'object' &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  ) {
    return Buffer.from((v as { data: number[] }).data).toString('base64');
  }
  return v;
}
