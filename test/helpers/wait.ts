/**
 * Waiting on conditions instead of sleeping: integration tests poll what they expect to become true
 * (a message consumed, a key written, a model version visible) and fail with a message that says what
 * never happened, plus the last error the condition threw, if any.
 */

export interface WaitOptions {
  /** Give up after this long (default 30 s: a cold broker's first group join can take a few seconds). */
  timeoutMs?: number;
  /** Pause between polls (default 100 ms). */
  intervalMs?: number;
  /** What was being waited for, for the timeout error. */
  message?: string | (() => string);
}

export class WaitTimeoutError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Polls `cond` until it returns a truthy value, and returns that value. A throwing condition counts as
 * "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = typeof opts.message === 'function' ? opts.message() : (opts.message ?? 'condition');
      const why =
        lastError === undefined ? '' : ` (last error: ${(lastError as Error).message ?? String(lastError)})`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${why}`, lastError);
    }
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}
