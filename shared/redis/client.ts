/**
 * Configured Redis clients (ioredis). Entry points read `REDIS_URL` once with `redisUrlFromEnv`;
 * libraries receive a client or a URL. TLS is chosen by the URL scheme (`rediss://`), credentials and
 * the database number by the URL itself (`redis://user:pass@host:6379/2`), so deployments need no code.
 *
 * Redis Cluster: `?cluster=true` on the URL of any one node (`redis://user:pass@node-0:6379?cluster=true`)
 * makes `createRedis` return an ioredis `Cluster` that discovers the others. Every key of a pipeline
 * carries its hash tag (`smae:{<pipeline>}:…`, BullMQ's prefix too: `shared/pipeline.ts`), so the
 * project's Lua scripts and transactions, which touch several keys of one pipeline, stay in one slot.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';

export type { Redis };

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** `REDIS_URL`, default redis://127.0.0.1:6379; a ConfigError if it is not a redis:// or rediss:// URL. */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv): string {
  const raw = env.REDIS_URL;
  const url = raw === undefined || raw.trim() === '' ? DEFAULT_REDIS_URL : raw.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('invalid Redis configuration', [{ path: 'REDIS_URL', message: 'not a URL' }]);
  }
  const cluster = parsed.searchParams.get('cluster');
  if (cluster !== null && cluster !== 'true' && cluster !== 'false') {
    throw new ConfigError('invalid Redis configuration', [
      { path: 'REDIS_URL', message: `cluster must be true or false, got ${cluster}` },
    ]);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError('invalid Redis configuration', [
      { path: 'REDIS_URL', message: `scheme must be redis:// or rediss://, got ${parsed.protocol}//` },
    ]);
  }
  return url;
}

export interface CreateRedisOptions {
  logger?: Logger;
  /** Do not connect until the first command (or an explicit `connect()`). */
  lazyConnect?: boolean;
  /**
   * Retries of one command across reconnects before it fails (ioredis default 20). BullMQ requires
   * `null` for its blocking connections.
   */
  maxRetriesPerRequest?: number | null;
  /** Shown by CLIENT LIST, which helps tell services apart on a shared server. */
  connectionName?: string;
  /** Anything else for ioredis, applied last. */
  extra?: RedisOptions;
}

/**
 * A client for `url`. Connection errors are logged (warn, once per distinct message in a row) rather
 * than left to ioredis's "Unhandled error event" console output; ioredis keeps reconnecting with
 * backoff, and commands fail after `maxRetriesPerRequest`.
 */
export function createRedis(url: string, opts: CreateRedisOptions = {}): Redis {
  const log = (opts.logger ?? silentLogger).child({ component: 'redis' });
  const nodeOptions: RedisOptions = {
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined ? 20 : opts.maxRetriesPerRequest,
    ...(opts.connectionName !== undefined ? { connectionName: opts.connectionName } : {}),
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    ...opts.extra,
  };
  const client = isClusterUrl(url)
    ? createCluster(url, nodeOptions, opts.lazyConnect ?? false)
    : new Redis(url, { lazyConnect: opts.lazyConnect ?? false, ...nodeOptions });
  let lastError = '';
  client.on('error', (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    log.warn({ err: err.message, url: redactUrl(url) }, 'redis connection error');
  });
  client.on('ready', () => {
    if (lastError !== '') log.info({ url: redactUrl(url) }, 'redis connection restored');
    lastError = '';
  });
  return client;
}

/** True when the URL asks for Redis Cluster (`?cluster=true`). */
export function isClusterUrl(url: string): boolean {
  try {
    return new URL(url).searchParams.get('cluster') === 'true';
  } catch {
    return false;
  }
}

/**
 * An ioredis Cluster seeded from the URL's node, typed as `Redis`: the two share the command interface
 * the project uses (commands, `eval`, `multi`, streams, pub/sub, `duplicate`, `quit`), and BullMQ takes
 * either. The cast is confined to this function.
 */
function createCluster(url: string, nodeOptions: RedisOptions, lazyConnect: boolean): Redis {
  const u = new URL(url);
  const redisOptions: RedisOptions = {
    ...nodeOptions,
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  delete redisOptions.retryStrategy; // the cluster reconnects through clusterRetryStrategy
  const cluster = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    lazyConnect,
    redisOptions,
    clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    // BullMQ's blocking connections need the offline queue and no per-request retry limit.
    enableOfflineQueue: true,
  });
  return cluster as unknown as Redis;
}

/** The URL without the `cluster` parameter (a single-node connection to the seed node). */
function seedNodeUrl(url: string): string {
  const u = new URL(url);
  u.searchParams.delete('cluster');
  return u.toString();
}

/**
 * True if a Redis server answers PING at `url` within `timeoutMs`. Uses a throwaway connection that
 * does not retry, for health checks and test set-up.
 */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(isClusterUrl(url) ? seedNodeUrl(url) : url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    // ioredis otherwise keeps a 2 s timer alive after disconnecting a socket that never connected.
    disconnectTimeout: 100,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  // connectTimeout covers only the TCP handshake: a peer that accepts and never answers would leave
  // connect() (which waits for the ready check) pending forever, hence the overall deadline.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((res) => {
    timer = setTimeout(() => res(false), timeoutMs);
  });
  const attempt = (async () => {
    await client.connect();
    return (await client.ping()) === 'PONG';
  })().catch(() => false);
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/**
 * Deletes every key that starts with `prefix` (SCAN + UNLINK, so a large keyspace never blocks Redis).
 * Glob characters in the prefix are escaped: `smae:{p}:` matches literally. Returns how many were deleted.
 */
export async function deleteKeysByPrefix(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  // On a cluster each primary holds its own keys: scan every one, and unlink key by key (keys of
  // different slots cannot share one command).
  const isCluster = (redis as unknown) instanceof Cluster;
  const nodes = isCluster ? (redis as unknown as Cluster).nodes('master') : [redis];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length === 0) continue;
      if (isCluster) {
        for (const k of keys) deleted += await redis.unlink(k);
      } else {
        deleted += await redis.unlink(...keys);
      }
    } while (cursor !== '0');
  }
  return deleted;
}
