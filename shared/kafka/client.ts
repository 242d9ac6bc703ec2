/**
 * Configured Kafka clients. Entry points read the environment once (`kafkaConnectionFromEnv`) into a
 * typed `KafkaConnection`; everything else receives that object and builds clients with `createKafka`,
 * whose kafkajs logging is routed into the process's pino logger instead of kafkajs's console output.
 *
 * TLS and SASL are passed straight through to kafkajs, so a real deployment (a managed cluster with
 * SCRAM or PLAIN over TLS) needs only environment variables, no code.
 */
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { isIP } from 'node:net';
import {
  Kafka,
  logLevel as KafkaLogLevel,
  type LogEntry,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { classifyRetry } from './retries.js';

export type KafkaLogLevelName = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

/** Which client library talks to Kafka (`shared/kafka/ports.ts` builds the port for it). */
export type KafkaClientName = 'kafkajs' | 'confluent';

export interface KafkaConnection {
  brokers: string[];
  /** Absent: kafkajs. */
  client?: KafkaClientName;
  clientId: string;
  ssl?: boolean | tls.ConnectionOptions;
  sasl?: SASLOptions;
  /** Milliseconds to establish a TCP connection to a broker (kafkajs default 1000). */
  connectionTimeout?: number;
  /** Milliseconds to wait for a request's response (kafkajs default 30000). */
  requestTimeout?: number;
  /** kafkajs's own verbosity; its lines still go through the pino logger's level too. */
  logLevel?: KafkaLogLevelName;
  retry?: RetryOptions;
}

export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';

const LOG_LEVELS: Record<KafkaLogLevelName, KafkaLogLevel> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveIntString = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of milliseconds')
  .transform((v) => Number(v))
  .refine((v) => v > 0, 'must be greater than 0');

const brokerList = z
  .string()
  .default(DEFAULT_KAFKA_BROKERS)
  .transform((v) =>
    v
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
  )
  .refine((list) => list.length > 0, 'must name at least one broker')
  .refine(
    (list) => list.every((b) => /^[^\s:/]+:\d{1,5}$/.test(b) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)),
    'each broker must be host:port, comma-separated',
  );

const envSchema = z.object({
  KAFKA_BROKERS: brokerList,
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  KAFKA_CLIENT: z.enum(['kafkajs', 'confluent']).optional(),
  KAFKA_SSL: booleanString.optional(),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: booleanString.optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_CONNECTION_TIMEOUT_MS: positiveIntString.optional(),
  KAFKA_REQUEST_TIMEOUT_MS: positiveIntString.optional(),
  KAFKA_LOG_LEVEL: z.enum(['nothing', 'error', 'warn', 'info', 'debug']).optional(),
});

/**
 * Reads the connection from the environment:
 * - `KAFKA_BROKERS` comma-separated host:port list (default 127.0.0.1:9092), `KAFKA_CLIENT_ID`;
 * - `KAFKA_CLIENT`: `kafkajs` (default) or `confluent` (@confluentinc/kafka-javascript, optional);
 * - `KAFKA_SSL=true`, optionally `KAFKA_SSL_CA_FILE`, `KAFKA_SSL_CERT_FILE`, `KAFKA_SSL_KEY_FILE`
 *   (PEM files) and `KAFKA_SSL_REJECT_UNAUTHORIZED=false` (self-signed test clusters only);
 * - `KAFKA_SASL_MECHANISM` (plain, scram-sha-256, scram-sha-512) with `KAFKA_SASL_USERNAME` and
 *   `KAFKA_SASL_PASSWORD`;
 * - `KAFKA_CONNECTION_TIMEOUT_MS`, `KAFKA_REQUEST_TIMEOUT_MS`, `KAFKA_LOG_LEVEL`.
 * Every problem is reported at once in a ConfigError.
 */
export function kafkaConnectionFromEnv(
  env: NodeJS.ProcessEnv,
  defaults: { clientId?: string } = {},
): KafkaConnection {
  const parsed = envSchema.safeParse(nonEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(
      'invalid Kafka configuration',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  const e = parsed.data;
  const issues: { path: string; message: string }[] = [];
  const conn: KafkaConnection = {
    brokers: e.KAFKA_BROKERS,
    clientId: e.KAFKA_CLIENT_ID ?? defaults.clientId ?? 'smae',
  };

  const tlsFiles = {
    ca: e.KAFKA_SSL_CA_FILE,
    cert: e.KAFKA_SSL_CERT_FILE,
    key: e.KAFKA_SSL_KEY_FILE,
  };
  const wantsTlsOptions =
    Object.values(tlsFiles).some((f) => f !== undefined) || e.KAFKA_SSL_REJECT_UNAUTHORIZED !== undefined;
  if (e.KAFKA_SSL === true || (e.KAFKA_SSL === undefined && wantsTlsOptions)) {
    if (wantsTlsOptions) {
      const options: tls.ConnectionOptions = {};
      for (const [name, file] of Object.entries(tlsFiles)) {
        if (file === undefined) continue;
        try {
          options[name as 'ca' | 'cert' | 'key'] = readFileSync(file);
        } catch (err) {
          issues.push({
            path: `KAFKA_SSL_${name.toUpperCase()}_FILE`,
            message: `cannot read ${file}: ${(err as Error).message}`,
          });
        }
      }
      if (e.KAFKA_SSL_REJECT_UNAUTHORIZED !== undefined) {
        options.rejectUnauthorized = e.KAFKA_SSL_REJECT_UNAUTHORIZED;
      }
      conn.ssl = options;
    } else {
      conn.ssl = true;
    }
  } else if (e.KAFKA_SSL === false && wantsTlsOptions) {
    issues.push({ path: 'KAFKA_SSL', message: 'TLS options are set but KAFKA_SSL is false' });
  }

  if (e.KAFKA_SASL_MECHANISM !== undefined) {
    if (e.KAFKA_SASL_USERNAME === undefined)
      issues.push({ path: 'KAFKA_SASL_USERNAME', message: 'required with KAFKA_SASL_MECHANISM' });
    if (e.KAFKA_SASL_PASSWORD === undefined)
      issues.push({ path: 'KAFKA_SASL_PASSWORD', message: 'required with KAFKA_SASL_MECHANISM' });
    conn.sasl = {
      mechanism: e.KAFKA_SASL_MECHANISM,
      username: e.KAFKA_SASL_USERNAME ?? '',
      password: e.KAFKA_SASL_PASSWORD ?? '',
    } as SASLOptions;
  } else if (e.KAFKA_SASL_USERNAME !== undefined || e.KAFKA_SASL_PASSWORD !== undefined) {
    issues.push({
      path: 'KAFKA_SASL_MECHANISM',
      message: 'required when a SASL username or password is set',
    });
  }

  if (issues.length > 0) throw new ConfigError('invalid Kafka configuration', issues);
  if (e.KAFKA_CONNECTION_TIMEOUT_MS !== undefined) conn.connectionTimeout = e.KAFKA_CONNECTION_TIMEOUT_MS;
  if (e.KAFKA_REQUEST_TIMEOUT_MS !== undefined) conn.requestTimeout = e.KAFKA_REQUEST_TIMEOUT_MS;
  if (e.KAFKA_LOG_LEVEL !== undefined) conn.logLevel = e.KAFKA_LOG_LEVEL;
  if (e.KAFKA_CLIENT !== undefined) conn.client = e.KAFKA_CLIENT;
  return conn;
}

/** Empty variables count as unset, as shells and compose files often export `X=`. */
function nonEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/**
 * A kafkajs client for the connection, logging through `logger` (child `component: kafkajs`).
 * kafkajs's level defaults to warn: at info it logs every group join and commit, which drowns the
 * service's own lines.
 */
export function createKafka(
  conn: KafkaConnection,
  logger: Logger = silentLogger,
  opts: KafkaClientHooks = {},
): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    brokers: conn.brokers,
    clientId: conn.clientId,
    ...(conn.ssl !== undefined ? { ssl: conn.ssl } : {}),
    ...(conn.sasl !== undefined ? { sasl: conn.sasl } : {}),
    ...(conn.connectionTimeout !== undefined ? { connectionTimeout: conn.connectionTimeout } : {}),
    ...(conn.requestTimeout !== undefined ? { requestTimeout: conn.requestTimeout } : {}),
    ...(conn.retry !== undefined ? { retry: conn.retry } : {}),
    logLevel: LOG_LEVELS[conn.logLevel ?? 'warn'],
    logCreator: () => (entry: LogEntry) => writeEntry(log, entry, opts.onRetry),
  });
}

export interface KafkaClientHooks {
  /**
   * Called for each retry kafkajs makes of a retriable broker condition (`shared/kafka/retries.ts`),
   * with the error type; such lines are logged at debug instead of error.
   */
  onRetry?: (errorType: string) => void;
}

function writeEntry(log: Logger, entry: LogEntry, onRetry?: (errorType: string) => void): void {
  const { message, timestamp: _timestamp, logger: _logger, ...extra } = entry.log;
  const fields = { ns: entry.namespace, ...extra };
  const retry = entry.level <= KafkaLogLevel.WARN ? classifyRetry(message, extra) : null;
  if (retry) {
    if (retry.isRetry) onRetry?.(retry.type);
    log.debug({ ...fields, retriable: retry.type }, message);
    return;
  }
  switch (entry.level) {
    case KafkaLogLevel.ERROR:
      log.error(fields, message);
      break;
    case KafkaLogLevel.WARN:
      log.warn(fields, message);
      break;
    case KafkaLogLevel.INFO:
      log.info(fields, message);
      break;
    default:
      log.debug(fields, message);
  }
}

/**
 * Fails fast, with a message that says what to do, when TLS is on and the first broker's certificate is
 * not trusted: kafkajs treats that like any connection error and retries it for seconds before giving up
 * with "Connection error". One handshake with the same TLS options; any other outcome (refused, timeout,
 * success) is left to the client, which retries what is worth retrying. Services call it once at start.
 */
export async function checkKafkaTls(conn: KafkaConnection, timeoutMs = 5000): Promise<void> {
  if (conn.ssl === undefined || conn.ssl === false) return;
  const first = conn.brokers[0];
  const m = first === undefined ? null : /^\[?([^\]]+?)\]?:(\d+)$/.exec(first);
  if (m === null) return;
  const [, host, port] = m as unknown as [string, string, string];
  const options: tls.ConnectionOptions = {
    ...(conn.ssl === true ? {} : conn.ssl),
    host,
    port: Number(port),
    ...(isIP(host) === 0 ? { servername: host } : {}),
  };
  const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const socket = tls.connect(options);
    const done = (err: NodeJS.ErrnoException | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(err);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.once('secureConnect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err));
  });
  if (failure === null) return;
  const code = String(failure.code ?? '');
  if (!/CERT|SIGNATURE|ISSUER|ALTNAME/.test(code)) return;
  throw new ConfigError("the Kafka broker's TLS certificate is not trusted", [
    {
      path: 'KAFKA_SSL_CA_FILE',
      message:
        `${first} presented a certificate that does not verify (${code}: ${failure.message}); ` +
        'set KAFKA_SSL_CA_FILE to the CA that signed the broker certificate',
    },
  ]);
}
