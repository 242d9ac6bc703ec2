/**
 * The scorer and the adapter run as child processes, started the way production starts them (their
 * own `main.ts`, configured by environment variables), with their logs captured to the run directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';

export interface Service {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Base URL of its ops server (metrics, health, readiness). */
  opsUrl: string;
  exited: Promise<number | null>;
  exitCode(): number | null | undefined;
}

/** A free TCP port on loopback (bound and released; good enough for a local demo). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function startService(opts: {
  name: string;
  /** Entry point, relative to the repository root. */
  entry: string;
  env: Record<string, string>;
  args?: string[];
  runDir: string;
  opsPort: number;
  /**
   * Scheduling niceness (0–19; higher yields the CPU to others). Set right after the spawn, before the
   * service starts any thread, so every thread it starts inherits it.
   */
  niceness?: number;
}): Service {
  const logFile = join(opts.runDir, `${opts.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, opts.entry), ...(opts.args ?? [])],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (opts.niceness !== undefined && child.pid !== undefined) {
    try {
      setPriority(child.pid, opts.niceness);
    } catch {
      // Not permitted here: the service runs at normal priority.
    }
  }
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (c, signal) => {
      code = c ?? (signal ? 128 : null);
      log.end();
      resolve(code);
    });
  });
  return {
    name: opts.name,
    child,
    logFile,
    opsUrl: `http://127.0.0.1:${opts.opsPort}`,
    exited,
    exitCode: () => code,
  };
}

/** Waits until `<ops>/readyz` answers 200; fails early if the process exits. */
export async function waitReady(service: Service, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const code = service.exitCode();
    if (code !== undefined) {
      throw new Error(`${service.name} exited (code ${code}) before it was ready; see ${service.logFile}`);
    }
    try {
      const res = await fetch(`${service.opsUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${service.name} was not ready within ${Math.round(timeoutMs / 1000)} s; see ${service.logFile}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export async function stopService(service: Service, graceMs = 20_000): Promise<number | null> {
  if (service.exitCode() !== undefined) return service.exitCode() ?? null;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  try {
    return await service.exited;
  } finally {
    clearTimeout(timer);
  }
}
