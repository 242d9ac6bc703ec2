/**
 * Work off the event loop: the one worker-thread runner of the project (training, adaptation steps).
 *
 * The parent side, `ThreadRunner`, keeps one thread alive and sends it requests by id; the thread side,
 * `serveRequests`, handles them one at a time in arrival order and may post progress before its result.
 * Errors cross the boundary through one codec (`serializeError` / `reviveError`), so a caller sees the
 * same catalogue error (code, field, details, a ConfigError's issues) the thread threw. A thread that dies
 * rejects what it had in flight (`INFRA_UNAVAILABLE`, retriable) and is replaced at the next request;
 * aborting a request terminates the thread.
 *
 * Under tsx (how the sources run) a worker cannot simply start on a `.ts` file: on Node 20 the loader
 * hooks registered with `--import tsx` do not apply to a worker's entry module. So a `.ts` entry starts
 * on a small bootstrap that loads it through tsx's `tsImport`; a compiled `.js` entry starts directly.
 */
import { Worker, parentPort } from 'node:worker_threads';
import { ConfigError, ERROR_CODES, SmaeError, type ErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  field?: string;
  details?: Record<string, unknown>;
  issues?: { path: string; message: string }[];
  stack?: string;
}

/** A thrown value as structured-clone-safe data. */
export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & Partial<Pick<SerializedError, 'code' | 'field' | 'details' | 'issues'>>;
  const out: SerializedError = { name: e.name, message: e.message };
  if (typeof e.code === 'string') out.code = e.code;
  if (typeof e.field === 'string') out.field = e.field;
  if (e.details !== undefined) out.details = e.details;
  if (Array.isArray(e.issues)) out.issues = e.issues;
  if (e.stack !== undefined) out.stack = e.stack;
  return out;
}

/** Rebuilds the error a thread threw: the same class for catalogue errors, code, field and details kept. */
export function reviveError(e: SerializedError): Error {
  let err: Error;
  if (e.name === 'ConfigError') {
    err = new ConfigError(e.message, e.issues ?? []);
  } else if (e.code !== undefined && (ERROR_CODES as readonly string[]).includes(e.code)) {
    err = new SmaeError(e.code as ErrorCode, e.message, {
      ...(e.field !== undefined ? { field: e.field } : {}),
      ...(e.details !== undefined ? { details: e.details } : {}),
    });
    err.name = e.name;
  } else {
    err = new Error(e.message);
    err.name = e.name;
  }
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

type Reply<O, P> =
  /** Posted once by a thread whose entry module is loaded and whose `ready` setup has settled. */
  | { id: 0; type: 'ready' }
  | { id: number; type: 'progress'; progress: P }
  | { id: number; type: 'done'; result: O }
  | { id: number; type: 'error'; error: SerializedError };

interface Request<I> {
  id: number;
  input: I;
}

/** What a thread's handler returns: the result and the buffers to transfer rather than copy. */
export interface ThreadResult<O> {
  result: O;
  transfer?: ArrayBuffer[];
}

/**
 * The thread side: call once in a worker entry module. Requests run one at a time, in arrival order.
 * `ready` (a setup such as choosing the TensorFlow.js backend) is awaited before the first request, and
 * the parent hears when it settled (`ThreadRunner.warm`).
 */
export function serveRequests<I, O, P = never>(
  handle: (input: I, progress: (p: P) => void) => Promise<ThreadResult<O>>,
  opts: { ready?: Promise<unknown> } = {},
): void {
  const port = parentPort;
  if (port === null) throw new Error('serveRequests() must run in a worker thread');
  const ready = Promise.resolve(opts.ready).then(
    () => undefined,
    () => undefined, // a failed setup fails each request instead (the handler awaits it again)
  );
  void ready.then(() => port.postMessage({ id: 0, type: 'ready' } satisfies Reply<O, P>));
  let queue: Promise<void> = ready;
  port.on('message', (req: Request<I>) => {
    queue = queue.then(async () => {
      try {
        const progress = (p: P): void => port.postMessage({ id: req.id, type: 'progress', progress: p });
        const { result, transfer } = await handle(req.input, progress);
        port.postMessage({ id: req.id, type: 'done', result } satisfies Reply<O, P>, transfer ?? []);
      } catch (err) {
        port.postMessage({ id: req.id, type: 'error', error: serializeError(err) } satisfies Reply<O, P>);
      }
    });
  });
}

/** The entry module `name` beside `callerUrl`, with the caller's own extension (.ts from source, .js built). */
export function siblingModule(callerUrl: string, name: string): URL {
  return new URL(`./${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}

export interface RunOptions<P> {
  onProgress?: (p: P) => void;
  /** Aborting rejects with the signal's reason and terminates the thread (replaced at the next run). */
  signal?: AbortSignal;
}

interface Pending<O, P> {
  resolve(r: O): void;
  reject(e: Error): void;
  onProgress: ((p: P) => void) | undefined;
}

/** Bootstrap for a `.ts` entry: load tsx's loader API, then the entry through it. */
const BOOT = `
const { workerData } = require('node:worker_threads');
import(workerData.__tsxApi)
  .then(({ tsImport }) => tsImport(workerData.__entry, workerData.__entry))
  .catch((err) => { console.error(err); process.exit(1); });
`;

/** The parent side: one long-lived thread on `entry`, started at the first request. */
export class ThreadRunner<I, O, P = never> {
  private worker: Worker | null = null;
  /** Resolves when the current thread posted 'ready'. */
  private workerReady: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending<O, P>>();
  private readonly log: Logger;

  constructor(
    private readonly entry: URL,
    private readonly opts: { name: string; workerData?: Record<string, unknown>; logger?: Logger },
  ) {
    this.log = (opts.logger ?? silentLogger).child({ component: opts.name });
  }

  run(input: I, opts: RunOptions<P> = {}): Promise<O> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const w = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise<O>((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(id);
        reject(signal!.reason as Error);
        void this.terminate(w, 'aborted');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        onProgress: opts.onProgress,
      });
      w.postMessage({ id, input } satisfies Request<I>);
    });
  }

  /**
   * Starts the thread now (if none runs) and resolves once its entry module is loaded and its setup
   * done, so the first request does not pay for it: a service warms its thread before it reports ready.
   * Rejects with INFRA_UNAVAILABLE if the thread dies first.
   */
  warm(): Promise<void> {
    if (!this.worker) this.worker = this.spawn();
    return this.workerReady!;
  }

  /** Stops the thread; requests still in flight are rejected. */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.fail(w, 'closed');
    await w.terminate();
  }

  private spawn(): Worker {
    const data = this.opts.workerData ?? {};
    const w = this.entry.href.endsWith('.ts')
      ? new Worker(BOOT, {
          eval: true,
          workerData: { ...data, __entry: this.entry.href, __tsxApi: import.meta.resolve('tsx/esm/api') },
        })
      : new Worker(this.entry, { workerData: data });
    let onReady!: () => void;
    let onDeath!: (err: Error) => void;
    this.workerReady = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onDeath = reject;
    });
    this.workerReady.catch(() => undefined);
    w.on('message', (m: Reply<O, P>) => {
      if (m.type === 'ready') {
        onReady();
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.onProgress?.(m.progress);
        return;
      }
      this.pending.delete(m.id);
      if (m.type === 'done') p.resolve(m.result);
      else p.reject(reviveError(m.error));
    });
    const died = (why: string): void => {
      onDeath(new SmaeError('INFRA_UNAVAILABLE', `${this.opts.name} thread failed: ${why}`));
      this.fail(w, why);
    };
    w.on('error', (err) => died(err.message));
    w.on('exit', (code) => died(`exited with code ${code}`));
    return w;
  }

  private async terminate(w: Worker, why: string): Promise<void> {
    this.fail(w, why);
    await w.terminate();
  }

  /** The thread is gone: reject what it had in flight; the next run starts a new one. */
  private fail(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    if (this.pending.size > 0) this.log.error({ why }, 'worker thread failed; its requests are rejected');
    for (const p of this.pending.values()) {
      p.reject(new SmaeError('INFRA_UNAVAILABLE', `${this.opts.name} thread failed: ${why}`));
    }
    this.pending.clear();
  }
}
