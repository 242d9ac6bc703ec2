/**
 * Turning flags into alerts: the grouping rule, independent of where its state lives.
 *
 * The first flag of a key opens an alert and suppresses that key for `windowMs`; every later flag of
 * the key with a time before the window's end joins the open alert (counted, not re-alerted). The first
 * flag at or after the end opens a new alert. Times are the flags' event times by default, so that a
 * replay of the flags topic makes the same decisions as the live run; `processing` time is an option for
 * streams whose event times are unreliable.
 *
 * Flags are identified by the input record they flag (`topic:partition:offset`, the flag's Kafka key),
 * and an identity seen before is a duplicate: a restart that re-reads flags, or an at-least-once scorer
 * that produced one twice, never alerts again. The store applies a decision atomically with the
 * duplicate check and with queuing the alert for delivery (see `redis-store.ts`).
 */
import type { FlagRecord } from '../../shared/avro/schemas.js';

/** What is remembered about a key between flags. */
export interface KeyState {
  /** The open (or last) alert of this key. */
  alertId: string;
  /** Time of the flag that opened it (ms). */
  openedAt: number;
  /** Flags of this key before this time join the alert (ms). */
  until: number;
  /** Flags grouped into the alert, the opening one included. */
  count: number;
  /** Time of the latest grouped flag (ms). */
  lastAt: number;
}

export type Outcome = 'opened' | 'suppressed' | 'duplicate';

export interface Decision {
  outcome: Exclude<Outcome, 'duplicate'>;
  next: KeyState;
}

/** The grouping rule: the new state of a key after one (non-duplicate) flag at time `at`. */
export function decide(state: KeyState | null, flagId: string, at: number, windowMs: number): Decision {
  if (state !== null && at < state.until) {
    return {
      outcome: 'suppressed',
      next: { ...state, count: state.count + 1, lastAt: Math.max(state.lastAt, at) },
    };
  }
  return {
    outcome: 'opened',
    next: { alertId: flagId, openedAt: at, until: at + windowMs, count: 1, lastAt: at },
  };
}

/** The identity of a flag: the input record it flags. */
export function flagId(flag: Pick<FlagRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${flag.topic}:${flag.partition}:${flag.offset}`;
}

/** The grouping key of a flag (flags without a key are grouped per input partition). */
export function alertKey(flag: Pick<FlagRecord, 'key' | 'topic' | 'partition'>): string {
  return flag.key ?? `<no key>:${flag.topic}:${flag.partition}`;
}

/** An alert as delivered (stdout JSON line, webhook body). */
export interface Alert {
  /** Stable id (the identity of the opening flag): downstream de-duplicates on it. */
  alertId: string;
  pipeline: string;
  key: string;
  openedAt: string;
  /** Further flags of this key are grouped into this alert until then. */
  suppressUntil: string;
  windowMs: number;
  flag: {
    topic: string;
    partition: number;
    offset: number;
    eventTime: string;
    flaggedAt: string;
    score: number;
    threshold: number;
    modelVersion: number | null;
    topFeatures: FlagRecord['topFeatures'];
  };
}

export function buildAlert(flag: FlagRecord, at: number, windowMs: number): Alert {
  return {
    alertId: flagId(flag),
    pipeline: flag.pipeline,
    key: alertKey(flag),
    openedAt: new Date(at).toISOString(),
    suppressUntil: new Date(at + windowMs).toISOString(),
    windowMs,
    flag: {
      topic: flag.topic,
      partition: flag.partition,
      offset: Number(flag.offset),
      eventTime: new Date(Number(flag.eventTime)).toISOString(),
      flaggedAt: new Date(Number(flag.flaggedAt)).toISOString(),
      score: flag.score,
      threshold: flag.threshold,
      modelVersion: flag.modelVersion === null ? null : Number(flag.modelVersion),
      topFeatures: flag.topFeatures,
    },
  };
}

/** One human line for a terminal: key, score against threshold, and the top features. */
export function formatAlertText(a: Alert): string {
  const features = a.flag.topFeatures
    .slice(0, 3)
    .map(
      (f) =>
        `${f.name}=${formatValue(f.value)} (expected ${formatValue(f.expected)}, ${Math.round(f.share * 100)}%)`,
    )
    .join(', ');
  const ratio = a.flag.threshold > 0 ? ` (${(a.flag.score / a.flag.threshold).toFixed(1)}× threshold)` : '';
  return (
    `ALERT ${a.openedAt} ${a.pipeline} key=${a.key} score=${a.flag.score.toPrecision(4)}${ratio} ` +
    `model=v${a.flag.modelVersion ?? '?'} at ${a.flag.topic}/${a.flag.partition}@${a.flag.offset}` +
    (features ? ` — ${features}` : '')
  );
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

/** Where alert state lives: in memory (tests, one-shot runs) or in Redis (`RedisAlertStore`). */
export interface AlertStore {
  /**
   * Applies one flag: checks the duplicate, updates the key's state and, when an alert opens, queues
   * `alert` for delivery — all or nothing.
   */
  apply(flag: { id: string; key: string; at: number }, alert: Alert, windowMs: number): Promise<Outcome>;
  /** The key's current state, if any. */
  state(key: string): Promise<KeyState | null>;
}

/** An in-memory store with the same rule (tests; a run that needs no persistence). */
export class MemoryAlertStore implements AlertStore {
  readonly queued: Alert[] = [];
  private readonly states = new Map<string, KeyState>();
  private readonly seen = new Set<string>();

  async apply(
    flag: { id: string; key: string; at: number },
    alert: Alert,
    windowMs: number,
  ): Promise<Outcome> {
    if (this.seen.has(flag.id)) return 'duplicate';
    this.seen.add(flag.id);
    const d = decide(this.states.get(flag.key) ?? null, flag.id, flag.at, windowMs);
    this.states.set(flag.key, d.next);
    if (d.outcome === 'opened') this.queued.push(alert);
    return d.outcome;
  }

  async state(key: string): Promise<KeyState | null> {
    return this.states.get(key) ?? null;
  }
}
