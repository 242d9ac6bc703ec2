/**
 * The life of a service process, the same in every service: signals are handled from the moment the
 * service starts building (a SIGTERM while waiting for a model or a broker is a normal stop); the
 * first SIGTERM/SIGINT shuts down gracefully, running the shutdown steps in the reverse order of
 * acquisition, and exits 0; a second signal, a failing step, or a shutdown that outlasts its deadline
 * exits 1 at once. A fatal error before that is one structured log line and exit 1 (`runMain`).
 */
import type { LevelWithSilent } from 'pino';
import { describeError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';

/** What a service sees of its process: signals and exit (tests pass a stand-in). */
export interface ServiceProcess {
  on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  exit(code: number): void;
}

export interface ServiceControl {
  /** Adds a shutdown step; steps run one at a time, the last added first. */
  onShutdown(step: () => unknown): void;
  /** Shuts down as on a signal, then exits with `exitCode` (1 after a fatal error). */
  shutdown(reason: string, exitCode?: number): Promise<void>;
  readonly shuttingDown: boolean;
}

export interface RunServiceOptions {
  logger: Logger;
  /** A shutdown still running after this long exits 1. */
  shutdownTimeoutMs: number;
  /** Builds and starts the service, adding a shutdown step for each resource as it acquires it. */
  start(control: ServiceControl): Promise<void>;
  /** Logged when a shutdown begins; default `shutting down`. */
  shutdownMessage?: string;
  proc?: ServiceProcess;
}

/**
 * Runs `start` with signal handling installed. Resolves when `start` does (the service then runs on
 * its own handles); rejects with its error, unless a shutdown had begun (e.g. a SIGTERM while still
 * waiting for a dependency), in which case the shutdown's own exit decides.
 */
export async function runService(options: RunServiceOptions): Promise<void> {
  const { logger, shutdownTimeoutMs, proc = process } = options;
  const steps: (() => unknown)[] = [];
  let shuttingDown = false;

  const shutdown = async (reason: string, exitCode = 0): Promise<void> => {
    if (shuttingDown) {
      logger.warn({ signal: reason }, 'second signal: exiting now');
      proc.exit(1);
      return;
    }
    shuttingDown = true;
    logger.info({ signal: reason }, options.shutdownMessage ?? 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: shutdownTimeoutMs }, 'shutdown timed out; exiting');
      proc.exit(1);
    }, shutdownTimeoutMs);
    deadline.unref();
    try {
      for (const step of [...steps].reverse()) await step();
      logger.info('bye');
      proc.exit(exitCode);
    } catch (err) {
      logger.error({ err: describeError(err) }, 'shutdown failed');
      proc.exit(1);
    } finally {
      clearTimeout(deadline);
    }
  };
  proc.on('SIGTERM', () => void shutdown('SIGTERM'));
  proc.on('SIGINT', () => void shutdown('SIGINT'));

  const control: ServiceControl = {
    onShutdown: (step) => void steps.push(step),
    shutdown,
    get shuttingDown() {
      return shuttingDown;
    },
  };
  try {
    await options.start(control);
  } catch (err) {
    if (shuttingDown) return;
    throw err;
  }
}

export interface MainContext {
  /** Creates the service's logger once its level is known; a fatal error is then logged through it. */
  createLogger(level?: LevelWithSilent): Logger;
}

/**
 * Exit codes of services and commands that fail to start or run (sysexits.h values, so supervisors and
 * scripts can tell "fix the settings" from "wait for the infrastructure"):
 * - 78 (`config`): configuration that cannot work — invalid settings, a record schema that cannot feed
 *   the model, a missing topic, a taken metrics port; restarting will not help;
 * - 69 (`unavailable`): Kafka, Redis or a schema registry did not answer; a restart later may succeed;
 * - 1 (`failure`): anything else.
 */
export const EXIT_CODES = { failure: 1, unavailable: 69, config: 78 } as const;

const INFRA_ERROR_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSRequestTimeoutError',
  'KafkaJSLockTimeout',
  'MaxRetriesPerRequestError',
]);
const INFRA_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/** The exit code for an error that stopped a service (see `EXIT_CODES`). */
export function exitCodeFor(err: unknown): number {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'INVALID_CONFIG' || code === 'INCOMPATIBLE_MODEL') return EXIT_CODES.config;
    if (code === 'INFRA_UNAVAILABLE' || (typeof code === 'string' && INFRA_ERRNO.has(code)))
      return EXIT_CODES.unavailable;
    if (INFRA_ERROR_NAMES.has((e as Error).name)) return EXIT_CODES.unavailable;
  }
  return EXIT_CODES.failure;
}

/**
 * Runs a service's entry point: a rejection (bad configuration, unreachable broker…) becomes one
 * structured `fatal` line, `<service> failed`, and the exit code `exitCodeFor` gives it.
 */
export function runMain(
  service: string,
  main: (context: MainContext) => Promise<void>,
  proc: Pick<ServiceProcess, 'exit'> = process,
): Promise<void> {
  let logger = createLogger({ service });
  const context: MainContext = {
    createLogger: (level) => (logger = createLogger({ service, ...(level ? { level } : {}) })),
  };
  // async so that a synchronous throw (e.g. config read in the call's arguments) is caught too
  return (async () => main(context))().catch((err: unknown) => {
    const exitCode = exitCodeFor(err);
    logger.fatal({ err: describeError(err), exitCode }, `${service} failed`);
    proc.exit(exitCode);
  });
}
