/**
 * Delivering alerts: to stdout (a JSON line or a human line) and to a webhook (a generic JSON POST),
 * retried with exponential backoff and jitter; an alert a sink still refuses after its retries goes to
 * the dead-letter list with the reason, so nothing is dropped silently.
 *
 * A webhook answer of 2xx is success; 408, 425, 429 and 5xx, timeouts and network errors are retried;
 * any other 4xx is the receiver saying the request itself is wrong, so it is not retried.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { silentLogger, type Logger } from '../../shared/log.js';
import type { ClaimedAlert } from './redis-store.js';
import { formatAlertText, type Alert } from './suppression.js';

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface AlertSink {
  readonly name: string;
  /** Delivers once; throws DeliveryError (or any error, taken as retriable) on failure. */
  deliver(alert: Alert): Promise<void>;
}

export type StdoutFormat = 'json' | 'text';

export function stdoutSink(
  format: StdoutFormat,
  write: (line: string) => void = (l) => process.stdout.write(l),
): AlertSink {
  return {
    name: 'stdout',
    async deliver(alert) {
      write(`${format === 'json' ? JSON.stringify(alert) : formatAlertText(alert)}\n`);
    },
  };
}

export interface WebhookOptions {
  url: string;
  /** Extra request headers (e.g. an Authorization header). */
  headers?: Record<string, string>;
  /** Per-attempt timeout (default 5 s). */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

const RETRIABLE_STATUS = new Set([408, 425, 429]);

export function isRetriableStatus(status: number): boolean {
  return status >= 500 || RETRIABLE_STATUS.has(status);
}

export function webhookSink(opts: WebhookOptions): AlertSink {
  const doFetch = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 5000;
  return {
    name: 'webhook',
    async deliver(alert) {
      let res: Response;
      try {
        res = await doFetch(opts.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': alert.alertId,
            ...opts.headers,
          },
          body: JSON.stringify(alert),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const e = err as Error;
        const what = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : e.message;
        throw new DeliveryError(`webhook ${opts.url}: ${what}`, true);
      }
      // Drain the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      throw new DeliveryError(`webhook ${opts.url} answered ${res.status}`, isRetriableStatus(res.status));
    },
  };
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** Delay before the second attempt (default 500 ms); doubles each time. */
  baseDelayMs?: number;
  /** Cap on one delay (default 10 s). */
  maxDelayMs?: number;
  /** Waits between attempts; should return early once `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Aborted on shutdown: no further attempt is made (the result says `stopped`). */
  signal?: AbortSignal;
}

/** The delay before attempt `attempt + 1` (attempt ≥ 1): exponential, capped, with "equal jitter". */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return exp / 2 + (exp / 2) * random();
}

export type DeliveryResult =
  { ok: true; attempts: number } | { ok: false; attempts: number; error: string; stopped?: true };

export async function deliverWithRetry(
  sink: AlertSink,
  alert: Alert,
  opts: RetryOptions = {},
): Promise<DeliveryResult> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const base = opts.baseDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 10_000;
  const sleep =
    opts.sleep ??
    ((ms: number, signal?: AbortSignal) =>
      sleepFor(ms, undefined, signal ? { signal } : {}).then(
        () => undefined,
        () => undefined,
      ));
  const stopped = (attempt: number): DeliveryResult => ({
    ok: false,
    attempts: attempt,
    error: 'delivery stopped (shutdown)',
    stopped: true,
  });
  const random = opts.random ?? Math.random;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await sink.deliver(alert);
      return { ok: true, attempts: attempt };
    } catch (err) {
      last = (err as Error).message;
      const retriable = err instanceof DeliveryError ? err.retriable : true;
      if (!retriable) return { ok: false, attempts: attempt, error: last };
      if (attempt < attempts) {
        if (opts.signal?.aborted) return stopped(attempt);
        await sleep(backoffDelay(attempt, base, max, random), opts.signal);
        if (opts.signal?.aborted) return stopped(attempt);
      }
    }
  }
  return { ok: false, attempts, error: last };
}

/** Where the deliverer takes alerts from (the Redis outbox, or a fake in tests). */
export interface AlertQueue {
  claim(leaseMs: number): Promise<ClaimedAlert | null>;
  ack(claimed: ClaimedAlert): Promise<void>;
  deadLetter(
    claimed: ClaimedAlert,
    failure: { sink: string; error: string; attempts: number },
  ): Promise<void>;
  /** Hands a claimed alert back for the next deliverer (shutdown mid-retry); without it the lease expires. */
  release?(claimed: ClaimedAlert): Promise<void>;
}

export interface DelivererOptions {
  queue: AlertQueue;
  sinks: AlertSink[];
  retry?: RetryOptions;
  /** Lease on a claimed alert; must exceed the worst-case retry time (default 120 s). */
  leaseMs?: number;
  /** Pause when the outbox is empty (default 250 ms). */
  idleMs?: number;
  logger?: Logger;
}

export interface DelivererStats {
  delivered: number;
  deadLettered: number;
  redelivered: number;
}

/** Drains the outbox to every sink, until stopped. */
export class AlertDeliverer {
  readonly stats: DelivererStats = { delivered: 0, deadLettered: 0, redelivered: 0 };
  private readonly o: Required<Omit<DelivererOptions, 'retry' | 'logger'>> & {
    retry: RetryOptions;
    logger: Logger;
  };
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private abort = new AbortController();

  constructor(opts: DelivererOptions) {
    this.o = {
      queue: opts.queue,
      sinks: opts.sinks,
      retry: opts.retry ?? {},
      leaseMs: opts.leaseMs ?? 120_000,
      idleMs: opts.idleMs ?? 250,
      logger: (opts.logger ?? silentLogger).child({ component: 'alert-delivery' }),
    };
  }

  /** Delivers what is queued now; returns how many alerts it handled. */
  async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      const claimed = await this.o.queue.claim(this.o.leaseMs);
      if (!claimed) return handled;
      handled++;
      if (claimed.redelivery) this.stats.redelivered++;
      let failure: { sink: string; error: string; attempts: number } | null = null;
      for (const sink of this.o.sinks) {
        const r = await deliverWithRetry(sink, claimed.alert, { ...this.o.retry, signal: this.abort.signal });
        if (!r.ok && r.stopped) {
          // Shutting down between retries: give the alert back instead of waiting out the backoff.
          await this.o.queue.release?.(claimed);
          return handled;
        }
        if (!r.ok) {
          failure = { sink: sink.name, error: r.error, attempts: r.attempts };
          this.o.logger.warn({ alertId: claimed.alert.alertId, ...failure }, 'alert dead-lettered');
          break;
        }
      }
      if (failure) {
        await this.o.queue.deadLetter(claimed, failure);
        this.stats.deadLettered++;
      } else {
        await this.o.queue.ack(claimed);
        this.stats.delivered++;
      }
    }
  }

  /** Asks the loop to look at the outbox now (after new alerts were queued). */
  poke(): void {
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loop = (async () => {
      while (this.running) {
        try {
          const n = await this.drain();
          if (n > 0) continue;
        } catch (err) {
          this.o.logger.warn({ err: (err as Error).message }, 'alert delivery loop error; retrying');
        }
        if (!this.running) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.o.idleMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    })();
  }

  /**
   * Stops after the delivery attempt in hand (an alert waiting for a retry is handed back to the outbox
   * at once); what is left stays queued for the next run.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    this.wake?.();
    await this.loop;
    this.loop = null;
  }
}
