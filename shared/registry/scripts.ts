/**
 * The registry's Lua scripts. Each runs atomically on the Redis server, which is the whole point:
 * the checks (does the pointer still point where the publisher expects? does the version exist?) and
 * the writes they guard cannot be interleaved with another client's.
 *
 * - `reserve` hands out the next version number (INCR), refusing early when an optimistic publisher's
 *   expected parent is already stale; it also repairs a counter that was reset behind existing versions.
 * - `commit` writes a complete version hash, adds it to the history, moves the current pointer only
 *   forward, trims the oldest history beyond the limit (never the current version) and announces the
 *   new current version on the pub/sub channel — all in one step, so a reader sees the old version or
 *   the new one, never half of one, and a subscriber is never told about a version it cannot read.
 * - `readCurrent` reads the pointer and the hash it points to in one step (a trim cannot slip between).
 *
 * Trimmed version keys are computed inside `commit` rather than declared in KEYS; they share the
 * pipeline's hash tag, so they live in the same cluster slot.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Connections to servers without EVALSHA_RO (Redis < 7). */
const noReadOnlyEval = new WeakSet<Redis>();

export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
    /**
     * A script that only reads runs with EVALSHA_RO/EVAL_RO (Redis 7), so a user whose ACL allows only
     * reading the keys (`%R~`, the scorer's, see shared/redis/acl.ts) may run it; older servers fall back
     * to EVALSHA/EVAL.
     */
    readonly readOnly = false,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA, falling back to EVAL when the server has not cached the script yet (or was flushed). */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | Buffer | number)[],
    opts: { binary?: boolean } = {},
  ): Promise<unknown> {
    const call = (cmd: string, first: string) =>
      opts.binary
        ? redis.callBuffer(cmd, first, keys.length, ...keys, ...args)
        : redis.call(cmd, first, keys.length, ...keys, ...args);
    const [evalsha, evalSource] =
      this.readOnly && !noReadOnlyEval.has(redis) ? ['EVALSHA_RO', 'EVAL_RO'] : ['EVALSHA', 'EVAL'];
    try {
      try {
        return await call(evalsha, this.sha);
      } catch (err) {
        if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
        return await call(evalSource, this.source);
      }
    } catch (err) {
      if (evalsha === 'EVALSHA_RO' && /unknown command/i.test(String((err as Error).message))) {
        noReadOnlyEval.add(redis); // Redis < 7
        return this.run(redis, keys, args, opts);
      }
      throw err;
    }
  }
}

/** KEYS: seq, current, history. ARGV: expectedParent ('' = no check). → {'OK', v} | {'CONFLICT', current} */
export const RESERVE = new LuaScript(
  'reserve',
  `
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= cur then
  return {'CONFLICT', cur}
end
local v = redis.call('INCR', KEYS[1])
local floor = cur
local top = redis.call('ZREVRANGE', KEYS[3], 0, 0)
if top[1] and tonumber(top[1]) > floor then floor = tonumber(top[1]) end
if v <= floor then
  v = floor + 1
  redis.call('SET', KEYS[1], v)
end
return {'OK', v}
`,
);

/**
 * KEYS: version key, current, history.
 * ARGV: version, expectedParent ('' = no check), historyLimit, versionPrefix, channel, event, then the
 * hash's field/value pairs.
 * → {'OK', promoted (0|1), previous current, {trimmed versions}} | {'CONFLICT', current} | {'EXISTS', 0}
 */
export const COMMIT = new LuaScript(
  'commit',
  `
local v = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'EXISTS', 0}
end
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= cur then
  return {'CONFLICT', cur}
end
redis.call('HSET', KEYS[1], 'previous', tostring(cur), unpack(ARGV, 7))
redis.call('ZADD', KEYS[3], v, ARGV[1])
local promoted = 0
local now = cur
if v > cur then
  redis.call('SET', KEYS[2], ARGV[1])
  promoted = 1
  now = v
end
local limit = tonumber(ARGV[3])
local trimmed = {}
local n = redis.call('ZCARD', KEYS[3])
if n > limit then
  local old = redis.call('ZRANGE', KEYS[3], 0, n - limit - 1)
  for _, m in ipairs(old) do
    if tonumber(m) ~= now then
      redis.call('ZREM', KEYS[3], m)
      redis.call('DEL', ARGV[4] .. m)
      trimmed[#trimmed + 1] = m
    end
  end
end
if promoted == 1 then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
return {'OK', promoted, cur, trimmed}
`,
);

/** KEYS: current. ARGV: versionPrefix. → {} | {version, {field, value, …}} (binary-safe with callBuffer) */
export const READ_CURRENT = new LuaScript(
  'readCurrent',
  `
local cur = redis.call('GET', KEYS[1])
if not cur then
  return {}
end
return {cur, redis.call('HGETALL', ARGV[1] .. cur)}
`,
  true,
);
