/**
 * Alert state in Redis, so a restarted (or a second) `smae alerts` neither re-alerts nor forgets an open
 * suppression window.
 *
 * Keys, all under the pipeline's prefix (one hash slot per pipeline in a Redis Cluster):
 * - `alerts:seen:<flag id>`: a flag already applied (expires after `seenTtlMs`);
 * - `alerts:state:<key>`: the key's open alert (hash: alertId, openedAt, until, count, lastAt);
 * - `alerts:outbox`: alerts waiting for delivery (list of JSON);
 * - `alerts:inflight`: alerts being delivered (sorted set scored by lease deadline);
 * - `alerts:dead`: alerts a sink refused after its retries (list of JSON: alert, sink, error).
 *
 * Applying a flag is one Lua script: the duplicate check, the grouping rule of `suppression.ts` and the
 * queuing of a new alert happen together or not at all. Delivery claims an alert with a lease; an alert
 * whose deliverer died is claimed again when its lease expires, so delivery is at-least-once and the
 * alert id lets a receiver drop a repeat.
 */
import type { Redis } from '../../shared/redis/client.js';
import type { Alert, AlertStore, KeyState, Outcome } from './suppression.js';

export interface AlertKeys {
  seen: (flagId: string) => string;
  state: (key: string) => string;
  outbox: string;
  inflight: string;
  dead: string;
}

/** The alert keys of a pipeline, under its Redis prefix (`pipelineNames(name).redisPrefix`). */
export function alertKeys(redisPrefix: string): AlertKeys {
  const p = `${redisPrefix}alerts:`;
  return {
    seen: (id) => `${p}seen:${id}`,
    state: (key) => `${p}state:${key}`,
    outbox: `${p}outbox`,
    inflight: `${p}inflight`,
    dead: `${p}dead`,
  };
}

// KEYS: seen, state, outbox. ARGV: flagId, at, until, alertJson, seenTtlMs, stateTtlMs.
// The same rule as `decide()`: suppressed when a state exists and at < until, else a new alert opens.
const APPLY = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[5]) then return 'duplicate' end
local at = tonumber(ARGV[2])
local untilv = redis.call('HGET', KEYS[2], 'until')
if untilv and at < tonumber(untilv) then
  redis.call('HINCRBY', KEYS[2], 'count', 1)
  local last = tonumber(redis.call('HGET', KEYS[2], 'lastAt') or ARGV[2])
  if at > last then redis.call('HSET', KEYS[2], 'lastAt', ARGV[2]) end
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  return 'suppressed'
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'alertId', ARGV[1], 'openedAt', ARGV[2], 'until', ARGV[3], 'count', 1, 'lastAt', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('RPUSH', KEYS[3], ARGV[4])
return 'opened'
`;

// KEYS: outbox, inflight. ARGV: now, leaseMs. Returns {item, redelivery(0|1)} or false.
const CLAIM = `
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
if #expired > 0 then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), expired[1])
  return {expired[1], 1}
end
local item = redis.call('LPOP', KEYS[1])
if not item then return false end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), item)
return {item, 0}
`;

// KEYS: inflight, outbox. ARGV: item. Back to the head of the outbox, if this deliverer still holds it.
const RELEASE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('LPUSH', KEYS[2], ARGV[1]) end
return 1
`;

export interface RedisAlertStoreOptions {
  redis: Redis;
  keys: AlertKeys;
  /** How long a flag id is remembered as applied (default 7 days): longer than any replay you expect. */
  seenTtlMs?: number;
  /** Extra wall-clock time a key's state outlives its window (default 1 hour). */
  stateGraceMs?: number;
}

export interface ClaimedAlert {
  alert: Alert;
  /** The stored form, for ack/dead-letter. */
  raw: string;
  /** True when a previous lease on it expired (its deliverer died or stalled). */
  redelivery: boolean;
}

export class RedisAlertStore implements AlertStore {
  private readonly redis: Redis;
  readonly keys: AlertKeys;
  private readonly seenTtlMs: number;
  private readonly stateGraceMs: number;

  constructor(opts: RedisAlertStoreOptions) {
    this.redis = opts.redis;
    this.keys = opts.keys;
    this.seenTtlMs = opts.seenTtlMs ?? 7 * 24 * 3_600_000;
    this.stateGraceMs = opts.stateGraceMs ?? 3_600_000;
  }

  async apply(
    flag: { id: string; key: string; at: number },
    alert: Alert,
    windowMs: number,
  ): Promise<Outcome> {
    const result = (await this.redis.eval(
      APPLY,
      3,
      this.keys.seen(flag.id),
      this.keys.state(flag.key),
      this.keys.outbox,
      flag.id,
      String(flag.at),
      String(flag.at + windowMs),
      JSON.stringify(alert),
      String(this.seenTtlMs),
      String(windowMs + this.stateGraceMs),
    )) as Outcome;
    return result;
  }

  async state(key: string): Promise<KeyState | null> {
    const h = await this.redis.hgetall(this.keys.state(key));
    if (!h.alertId) return null;
    return {
      alertId: h.alertId,
      openedAt: Number(h.openedAt),
      until: Number(h.until),
      count: Number(h.count),
      lastAt: Number(h.lastAt),
    };
  }

  /** Takes the next alert to deliver (an expired lease first), leased for `leaseMs`. */
  async claim(leaseMs: number, now = Date.now()): Promise<ClaimedAlert | null> {
    const r = (await this.redis.eval(
      CLAIM,
      2,
      this.keys.outbox,
      this.keys.inflight,
      String(now),
      String(leaseMs),
    )) as [string, number] | null;
    if (!r) return null;
    return { alert: JSON.parse(r[0]) as Alert, raw: r[0], redelivery: Number(r[1]) === 1 };
  }

  /** The alert was delivered to every sink. */
  async ack(claimed: ClaimedAlert): Promise<void> {
    await this.redis.zrem(this.keys.inflight, claimed.raw);
  }

  /** Hands a claimed alert back to the head of the outbox (a deliverer shutting down mid-retry). */
  async release(claimed: ClaimedAlert): Promise<void> {
    await this.redis.eval(RELEASE, 2, this.keys.inflight, this.keys.outbox, claimed.raw);
  }

  /** A sink refused the alert for good: keep it, with why, on the dead-letter list. */
  async deadLetter(
    claimed: ClaimedAlert,
    failure: { sink: string; error: string; attempts: number },
  ): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.keys.inflight, claimed.raw)
      .rpush(
        this.keys.dead,
        JSON.stringify({ ...failure, failedAt: new Date().toISOString(), alert: claimed.alert }),
      )
      .exec();
  }

  /** Alerts waiting, in delivery, and dead-lettered (for status output and tests). */
  async counts(): Promise<{ outbox: number; inflight: number; dead: number }> {
    const [outbox, inflight, dead] = await Promise.all([
      this.redis.llen(this.keys.outbox),
      this.redis.zcard(this.keys.inflight),
      this.redis.llen(this.keys.dead),
    ]);
    return { outbox, inflight, dead };
  }
}
