/**
 * The one Redis lock of the project: `SET key token NX PX ttl`, renewed every third of its lifetime while
 * held, released only by its holder (compare-and-delete in one script), and it notices when a renewal
 * finds the lock gone or taken (`lost`, `onLost`).
 *
 * Users: the adapter (one adaptation per pipeline at a time, across a scheduled cycle, an operator's
 * `smae adapt --now` and several adapter deployments) and the trainer (of several replicas, one trains at
 * a time; a scheduled run that finds the lock taken is skipped, not queued). It is a liveness aid, not
 * the only safety: a holder that lost its lock (a long pause, Redis failover) is still stopped from
 * publishing twice by the registry's `expectedParent` check (and, for the adapter, the cycle ledger).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** What a cycle needs of a lock (RedisLock; a fake in unit tests). */
export interface PipelineLock {
  /** The lock, or null if another holder has it. */
  tryAcquire(): Promise<LockHandle | null>;
}

export interface LockHandle {
  readonly token: string;
  /** True once a renewal found the lock gone or taken: stop before any side effect. */
  readonly lost: boolean;
  release(): Promise<void>;
}

export interface RedisLockOptions {
  /** Lock lifetime without renewal (default 30 s); renewed every third of it. */
  ttlMs?: number;
  /** Called once when a renewal finds the lock gone or taken by another holder. */
  onLost?: () => void;
}

export class RedisLock implements PipelineLock {
  private readonly ttlMs: number;
  private readonly onLost: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    opts: RedisLockOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.onLost = opts.onLost;
  }

  /** The lock, or null if another holder has it. Keeps it renewed until `release()`. */
  async tryAcquire(): Promise<LockHandle | null> {
    const token = randomUUID();
    const ok = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return null;
    let lost = false;
    let released = false;
    const timer = setInterval(
      () => {
        this.redis
          .eval(RENEW, 1, this.key, token, String(this.ttlMs))
          .then((r) => {
            if (r !== 1 && !released && !lost) {
              lost = true;
              this.onLost?.();
            }
          })
          .catch(() => {
            // Redis unreachable: the lock may expire; the holder finds out at its next check.
          });
      },
      Math.max(50, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    const redis = this.redis;
    const key = this.key;
    return {
      token,
      get lost() {
        return lost;
      },
      async release() {
        if (released) return;
        released = true;
        clearInterval(timer);
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      },
    };
  }

  /** Who holds the lock now (a token), or null. */
  async holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }
}
