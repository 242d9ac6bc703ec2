/**
 * The trainer's runs, one at a time: on demand, at start, and on a schedule measured from the end of the
 * previous run; a failed run is retried after `retryMs` (never later than the schedule would), never in
 * a tight loop. What a run does is the caller's (`trainOnce`); this holds only when runs happen.
 */
import { describeError } from '../../shared/errors.js';
import type { RunReport, RunTrigger } from './app.js';

export interface RunTiming {
  /** Time between the end of one run and the start of the next; 0 = no schedule. */
  intervalMs: number;
  /** After a failed run, try again this much later (capped by `intervalMs` when that is shorter). */
  retryMs: number;
}

export class TrainingRuns {
  private timer: NodeJS.Timeout | null = null;
  private nextRunAt: number | null = null;
  private current: Promise<RunReport> | null = null;
  private stopping = false;
  private runs = 0;
  private lastRun: RunReport | null = null;
  private lastSuccess: RunReport | null = null;

  constructor(
    private readonly run: (trigger: RunTrigger) => Promise<RunReport>,
    private readonly timing: RunTiming,
    private readonly onReport: (report: RunReport) => void,
  ) {}

  get running(): boolean {
    return this.current !== null;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Runs now (a scheduled run is cancelled); while one runs, resolves with that run's report. */
  runNow(trigger: RunTrigger = 'manual'): Promise<RunReport> {
    if (this.current) return this.current;
    if (this.stopping) {
      const now = new Date().toISOString();
      return Promise.resolve({
        trigger,
        startedAt: now,
        finishedAt: now,
        outcome: 'aborted',
        error: 'stopping',
      });
    }
    this.cancelTimer();
    const run = this.run(trigger)
      .catch((err: unknown): RunReport => ({
        trigger,
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        outcome: 'failed',
        error: describeError(err),
      }))
      .then((report) => {
        this.runs += 1;
        this.lastRun = report;
        if (report.outcome === 'published') this.lastSuccess = report;
        this.current = null;
        this.onReport(report);
        const retry = report.outcome === 'failed';
        const { intervalMs, retryMs } = this.timing;
        const delay = retry ? (intervalMs > 0 ? Math.min(retryMs, intervalMs) : retryMs) : intervalMs;
        this.schedule(delay, retry ? 'retry' : 'schedule');
        return report;
      });
    this.current = run;
    return run;
  }

  /** A run `delayMs` from now (replacing any scheduled one); nothing when stopping or `delayMs` ≤ 0. */
  schedule(delayMs: number, trigger: RunTrigger): void {
    if (this.stopping || delayMs <= 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextRunAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextRunAt = null;
      void this.runNow(trigger);
    }, delayMs);
  }

  status(): {
    running: boolean;
    runs: number;
    lastRun: RunReport | null;
    lastSuccess: RunReport | null;
    nextRunAt: string | null;
  } {
    return {
      running: this.running,
      runs: this.runs,
      lastRun: this.lastRun,
      lastSuccess: this.lastSuccess,
      nextRunAt: this.nextRunAt === null ? null : new Date(this.nextRunAt).toISOString(),
    };
  }

  /** No new runs; `abort` is called when one is running, which is then waited for. */
  async stop(abort: () => void): Promise<void> {
    this.stopping = true;
    this.cancelTimer();
    if (this.current) {
      abort();
      await this.current;
    }
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextRunAt = null;
  }
}
