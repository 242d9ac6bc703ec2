/**
 * Writes window entries (see `shared/scoring/window.ts`) to the pipeline's capped Redis stream.
 *
 * The window is a sample for the adapter, not a ledger: it is written after each committed batch, in the
 * background so Redis latency never slows consumption, with `XADD … MAXLEN ~ n` so Redis trims it
 * cheaply. At most `maxPerSecond` entries a second are queued (`WindowSampler`: an evenly spaced sample of
 * a batch beyond that; counted as sampled out). Entries queued beyond `maxLen` would be trimmed on arrival
 * anyway, so the oldest queued ones are dropped instead of sent (and counted). A Redis outage is logged and
 * counted; scoring goes on.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/log.js';
import { encodeWindowEntry, WindowSampler, type WindowEntry } from '../../shared/scoring/window.js';

export interface WindowWriterOptions {
  redis: Redis;
  key: string;
  maxLen: number;
  /** Entries queued per second at most (0: no limit). */
  maxPerSecond: number;
  logger: Logger;
  /**
   * Entries per pipelined round trip; default 100. Building a pipeline runs on the event loop without a
   * break (about 20 µs an entry), so a small chunk keeps each stretch short between the scorer's batches.
   */
  chunk?: number;
  onWritten?(n: number): void;
  onDropped?(n: number): void;
  onSampledOut?(n: number): void;
  onError?(err: Error): void;
}

export class WindowWriter {
  private queue: WindowEntry[] = [];
  private flushing: Promise<void> | null = null;
  private readonly log: Logger;
  private readonly sampler: WindowSampler;

  constructor(private readonly opts: WindowWriterOptions) {
    this.log = opts.logger.child({ component: 'window' });
    this.sampler = new WindowSampler(opts.maxPerSecond);
  }

  /** Queues entries (within the rate budget) and starts a background flush if none is running. */
  append(all: readonly WindowEntry[]): void {
    if (all.length === 0 || this.opts.maxLen <= 0) return;
    const entries = this.sampler.take(all);
    if (entries.length < all.length) this.opts.onSampledOut?.(all.length - entries.length);
    for (const e of entries) this.queue.push(e);
    const excess = this.queue.length - this.opts.maxLen;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.opts.onDropped?.(excess);
    }
    if (!this.flushing && this.queue.length > 0) {
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
      });
    }
  }

  /** Resolves when everything queued so far is written (or failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    const chunk = this.opts.chunk ?? 100;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, chunk);
      const pipeline = this.opts.redis.pipeline();
      for (const e of batch) {
        pipeline.xadd(this.opts.key, 'MAXLEN', '~', String(this.opts.maxLen), '*', ...encodeWindowEntry(e));
      }
      try {
        const replies = (await pipeline.exec()) ?? [];
        const failed = replies.find(([err]) => err);
        if (failed?.[0]) throw failed[0];
        this.opts.onWritten?.(batch.length);
      } catch (err) {
        this.opts.onError?.(err as Error);
        this.log.warn({ err: (err as Error).message, dropped: batch.length }, 'window write failed');
      }
    }
  }
}
