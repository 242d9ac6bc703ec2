/**
 * A lease in Redis so that, of several trainer replicas of one pipeline, one trains at a time: a
 * scheduled retraining that finds the lease taken is skipped, not queued (the other replica is
 * producing the same model). The lease expires on its own if its holder dies, and is renewed while a
 * run lasts; release and renewal compare the holder's token first (Lua), so a replica never deletes
 * a lease that expired and was taken by another.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

export interface Lease {
  readonly token: string;
  /** Stops renewing and deletes the lease if it is still ours. */
  release(): Promise<void>;
}

export async function acquireLease(redis: Redis, key: string, ttlMs: number): Promise<Lease | null> {
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return null;
  const timer = setInterval(
    () => {
      redis.eval(RENEW, 1, key, token, ttlMs).catch(() => undefined);
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    token,
    release: async () => {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    },
  };
}
