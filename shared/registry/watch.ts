/**
 * A consumer's view of the registry: "tell me about each newer, verified current version".
 *
 * Three triggers lead to the same check — the pub/sub announcement (fast path), a timer (every
 * `pollMs`) and the subscriber's (re)connection — because pub/sub is at-most-once: a consumer that was
 * disconnected, started late, or simply missed a message still converges on the pointer within one
 * poll. Checks are serialised and coalesced (a burst of announcements costs one read), and a poll that
 * finds the pointer where it was costs one GET.
 *
 * A version that fails verification is logged and counted once and never delivered (versions are
 * immutable, so it is not re-read either); the consumer keeps its model until a newer good version
 * appears. A callback that throws is logged; the version still counts as delivered, because retrying
 * the same content would fail the same way — the consumer owns its own swap errors.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { PublishedModel, WatchHandle, WatchStats } from './types.js';

/** What the watcher needs of the registry (kept narrow to avoid a circular import of the class). */
export interface WatchSource {
  readonly keys: { events: string };
  currentVersion(): Promise<number>;
  get(version: number): Promise<PublishedModel>;
}

export interface WatcherOptions {
  pollMs: number;
  afterVersion: number;
  onRejected: ((version: number, error: Error) => void) | undefined;
  logger: Logger;
}

export class RegistryWatcher implements WatchHandle {
  readonly stats: WatchStats;
  private readonly rejectedVersions = new Set<number>();
  private subscriber: Redis | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private tail: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;

  constructor(
    private readonly source: WatchSource,
    private readonly redis: Redis,
    private readonly onVersion: (m: PublishedModel) => void | Promise<void>,
    private readonly opts: WatcherOptions,
  ) {
    this.stats = {
      lastDelivered: opts.afterVersion,
      delivered: 0,
      rejected: 0,
      notifications: 0,
      polls: 0,
      errors: 0,
    };
  }

  start(): void {
    const sub = this.redis.duplicate();
    this.subscriber = sub;
    sub.on('error', (err: Error) => {
      this.opts.logger.warn({ err: err.message }, 'registry subscriber connection error (polling continues)');
    });
    // After a reconnect, announcements sent while we were away are lost: re-read the pointer.
    sub.on('ready', () => void this.check());
    sub.on('message', (_channel: string, message: string) => {
      this.stats.notifications += 1;
      let version = Number.NaN;
      try {
        version = Number((JSON.parse(message) as { version?: unknown }).version);
      } catch {
        // A malformed announcement is only a hint; the check below reads the pointer anyway.
      }
      if (!(version <= this.stats.lastDelivered)) void this.check();
    });
    sub.subscribe(this.source.keys.events).catch((err: Error) => {
      this.opts.logger.warn(
        { err: err.message },
        'cannot subscribe to model announcements (polling continues)',
      );
    });
    this.timer = setInterval(() => {
      this.stats.polls += 1;
      void this.check();
    }, this.opts.pollMs);
    this.timer.unref();
    void this.check();
  }

  /** Serialised and coalesced: at most one check running and one queued behind it. */
  check(): Promise<void> {
    if (this.closed) return this.tail;
    if (this.queued) return this.queued;
    const next = this.tail.then(() => {
      this.queued = null;
      return this.checkOnce();
    });
    this.queued = next;
    this.tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const sub = this.subscriber;
    this.subscriber = null;
    if (sub) {
      sub.removeAllListeners('ready');
      sub.removeAllListeners('message');
      try {
        await sub.quit();
      } catch {
        sub.disconnect();
      }
    }
    await this.tail;
  }

  private async checkOnce(): Promise<void> {
    if (this.closed) return;
    let version: number;
    try {
      version = await this.source.currentVersion();
    } catch (err) {
      this.stats.errors += 1;
      this.opts.logger.warn(
        { err: (err as Error).message },
        'cannot read the current model pointer (will retry)',
      );
      return;
    }
    if (version <= this.stats.lastDelivered || this.rejectedVersions.has(version) || this.closed) return;
    let model: PublishedModel;
    try {
      model = await this.source.get(version);
    } catch (err) {
      const error = err as Error & { code?: string };
      if (
        error.code === 'INTEGRITY_CHECK_FAILED' ||
        error.code === 'UNTRUSTED_MODEL' ||
        error.code === 'INCOMPATIBLE_MODEL'
      ) {
        this.rejectedVersions.add(version);
        this.stats.rejected += 1;
        this.opts.logger.error(
          { version, code: error.code, err: error.message, keeping: this.stats.lastDelivered },
          'model version refused: it does not verify or is not signed by a trusted key; keeping the current model',
        );
        this.opts.onRejected?.(version, error);
      } else if (error.code === 'MODEL_NOT_FOUND') {
        // Trimmed between the two reads: a newer version is current now; the next check finds it.
      } else {
        this.stats.errors += 1;
        this.opts.logger.warn({ version, err: error.message }, 'cannot read model version (will retry)');
      }
      return;
    }
    if (this.closed) return;
    this.stats.lastDelivered = version;
    this.stats.delivered += 1;
    try {
      await this.onVersion(model);
    } catch (err) {
      this.opts.logger.error({ version, err: (err as Error).message }, 'model version callback failed');
    }
  }
}
