/**
 * The adapter process: configuration, clients, start, and shutdown in reverse order.
 *
 *   SMAE_PIPELINE=payments SMAE_EVERY=15m npx tsx services/adapter/main.ts
 *   npx tsx services/adapter/main.ts --pipeline demo --cron '0 * * * *' --policy default
 *   npx tsx services/adapter/main.ts --help
 *
 * Several adapter processes may run for the same pipelines: BullMQ hands each cycle to one of them,
 * and the pipeline lock, the cycle ledger and the registry's conditional publish keep it at one
 * version per cycle. `--schedule false` runs a worker that does not touch the schedulers.
 *
 * SIGTERM/SIGINT: no new cycles; a running cycle finishes (its publish included); queues, the compute
 * thread, Redis clients and the ops server are closed; exit 0. Past `shutdownTimeoutMs`, or on a
 * second signal, exit 1 at once: a cycle cut short is retried by another process (BullMQ's stalled
 * job check) and publishes at most once.
 */
import { describeError } from '../../shared/errors.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { startOpsServer } from '../../shared/ops/index.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { buildAdapter } from './app.js';
import { describeSettings, loadAdapterConfig } from './config.js';

const USAGE = `smae adapter: adapts each pipeline's model to drift on a schedule, behind guardrails.

Settings (flag / environment variable), flags win:
${describeSettings()}

Redis: REDIS_URL. Endpoints: GET /healthz, /readyz, /metrics on the metrics port.
`;

async function main(log: { current: Logger }): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const config = loadAdapterConfig(process.env, argv);
  const logger = createLogger({ service: 'adapter', level: config.logLevel });
  log.current = logger;
  const url = redisUrlFromEnv(process.env);
  const redis = createRedis(url, { logger, connectionName: 'smae-adapter' });
  const bullmq = createRedis(url, {
    logger,
    connectionName: 'smae-adapter-bullmq',
    maxRetriesPerRequest: null,
  });

  const adapter = buildAdapter(config, { redis, bullmq, logger });
  const ops = await startOpsServer({
    registry: adapter.metricsRegistry,
    health: () => adapter.health(),
    ready: () => adapter.ready(),
    port: config.ops.port,
    host: config.ops.host,
    logger,
  });

  let shuttingDown = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing the running cycle, if any');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    try {
      await adapter.close();
      await ops.close();
      await Promise.all([redis, bullmq].map((c) => c.quit().catch(() => c.disconnect())));
      logger.info('bye');
      process.exit(0);
    } catch (err) {
      logger.error({ err: describeError(err) }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await adapter.start();
}

const log: { current: Logger } = { current: createLogger({ service: 'adapter' }) };
main(log).catch((err: unknown) => {
  log.current.fatal({ err: describeError(err) }, 'adapter failed');
  process.exit(1);
});
