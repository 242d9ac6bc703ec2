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
import { startOpsServer } from '../../shared/ops/index.js';
import { runMain, runService } from '../../shared/ops/lifecycle.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { wantsHelp } from '../../shared/config/service-config.js';
import { buildAdapter } from './app.js';
import { assertCanPublish, describeTrust, processModelTrust } from '../../shared/registry/signing.js';
import { describeSettings, loadAdapterConfig } from './config.js';

const USAGE = `smae adapter: adapts each pipeline's model to drift on a schedule, behind guardrails.

Settings (flag / environment variable), flags win:
${describeSettings()}

Redis: REDIS_URL. Endpoints: GET /healthz, /readyz, /metrics on the metrics port.
`;

runMain('adapter', async ({ createLogger }) => {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(USAGE);
    return;
  }
  const config = loadAdapterConfig(process.env, argv);
  const logger = createLogger(config.logLevel);
  // Publishes signed models: without a signing key (or the development switch) stop now, not at the
  // first cycle. Only key ids are logged.
  const trust = processModelTrust();
  assertCanPublish(trust);
  logger.info({ models: describeTrust(trust) }, 'model signing');

  await runService({
    logger,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    shutdownMessage: 'shutting down: finishing the running cycle, if any',
    start: async (service) => {
      const url = redisUrlFromEnv(process.env);
      const redis = createRedis(url, { logger, connectionName: 'smae-adapter' });
      const bullmq = createRedis(url, {
        logger,
        connectionName: 'smae-adapter-bullmq',
        maxRetriesPerRequest: null,
      });
      service.onShutdown(() => Promise.all([redis, bullmq].map((c) => c.quit().catch(() => c.disconnect()))));

      const adapter = buildAdapter(config, { redis, bullmq, logger });
      const ops = await startOpsServer({
        registry: adapter.metricsRegistry,
        health: () => adapter.health(),
        ready: () => adapter.ready(),
        port: config.ops.port,
        host: config.ops.host,
        logger,
      });
      service.onShutdown(() => ops.close());
      // Runs first: no new cycles, the running one finishes (its publish included).
      service.onShutdown(() => adapter.close());
      await adapter.start();
    },
  });
});
