/**
 * The recent window the scorer keeps: a capped Redis stream `${redisPrefix}window`, one entry per
 * sampled scored record. The entry format is the scorer's (`shared/scoring/window.ts`: `features`,
 * `score`, `flagged`, `threshold`, `key`, `time`, `model`, `source`); this module only reads it, most
 * recent first (XREVRANGE, bounded count), into the shape the adaptation works on.
 *
 * Entries it cannot parse are skipped and counted, never thrown: one bad entry must not stop adaptation.
 */
import type { Redis } from 'ioredis';
import { pipelineNames } from '../pipeline.js';
import { decodeWindowEntry, encodeWindowEntry, windowStreamKey } from '../scoring/window.js';

/**
 * A window entry as adaptation reads it: the scorer's `WindowEntry` (shared/scoring/window.ts) parsed,
 * with its stream id, an empty key for none, and the entry id's time when the record had no event time.
 */
export interface WindowRow {
  /** Stream entry id (`<ms>-<seq>`), unique within the stream. */
  id: string;
  /** The decoded record, raw units. */
  record: Record<string, unknown>;
  /** The score the scorer gave it (with model `version`). */
  score: number;
  flagged: boolean;
  /** Entity key, '' when the record had none. */
  key: string;
  /** Event time, ms since the epoch. */
  ts: number;
  version: number | null;
}

export interface WindowRead {
  /** Newest first. */
  entries: WindowRow[];
  /** Entries skipped because they could not be parsed. */
  malformed: number;
}

export function windowKey(pipeline: string): string {
  return windowStreamKey(pipelineNames(pipeline).redisPrefix);
}

/** One stream entry's flat field list (`[k1, v1, k2, v2, …]`) into a WindowRow, or null if malformed. */
export function parseWindowEntry(id: string, fields: readonly string[]): WindowRow | null {
  const e = decodeWindowEntry(fields);
  if (e === undefined || Array.isArray(e.features)) return null;
  const idTime = Number(id.split('-')[0]);
  return {
    id,
    record: e.features,
    score: e.score,
    flagged: e.flagged,
    key: e.key ?? '',
    ts: Number.isFinite(e.time) ? e.time : idTime,
    version: e.modelVersion !== null && Number.isInteger(e.modelVersion) ? e.modelVersion : null,
  };
}

/** The `count` most recent window entries, newest first. */
export async function readWindow(redis: Redis, pipeline: string, count: number): Promise<WindowRead> {
  const raw = (await redis.xrevrange(windowKey(pipeline), '+', '-', 'COUNT', count)) as [string, string[]][];
  const entries: WindowRow[] = [];
  let malformed = 0;
  for (const [id, fields] of raw) {
    const e = parseWindowEntry(id, fields);
    if (e === null) malformed++;
    else entries.push(e);
  }
  return { entries, malformed };
}

/** Appends entries in the scorer's format (tests and the benchmark fill a window with it). */
export async function appendWindow(
  redis: Redis,
  pipeline: string,
  entries: readonly Omit<WindowRow, 'id'>[],
  maxLen = 10_000,
): Promise<void> {
  const pipe = redis.pipeline();
  for (const e of entries) {
    const fields = encodeWindowEntry({
      features: e.record,
      score: e.score,
      flagged: e.flagged,
      threshold: Number.NaN,
      key: e.key === '' ? null : e.key,
      time: e.ts,
      modelVersion: e.version,
      source: 'test',
    });
    pipe.xadd(windowKey(pipeline), 'MAXLEN', '~', maxLen, '*', ...fields);
  }
  await pipe.exec();
}
