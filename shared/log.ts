/**
 * Structured logging: one pino logger per process, JSON lines on stderr (stdout stays free for a
 * command's own output, such as `smae eval --json`). Components take a child logger with their name.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: LevelWithSilent;
  /** The service or command, added to every line as `service`. */
  service: string;
}

export function createLogger(options: LogOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything: the default for library code called without one (tests, scripts). */
export const silentLogger: Logger = pino({ level: 'silent' });
