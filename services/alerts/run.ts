/**
 * Runs the alerts consumer from a validated configuration until SIGINT/SIGTERM (the `smae alerts`
 * command and `services/alerts/main.ts` both call this).
 */
import { checkKafkaTls, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { createKafkaPort } from '../../shared/kafka/ports.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { createLogger } from '../../shared/log.js';
import { Gauge, type Registry } from 'prom-client';
import { createMetricsRegistry } from '../../shared/ops/metrics.js';
import { runService } from '../../shared/ops/lifecycle.js';
import { startOpsServer } from '../../shared/ops/server.js';
import { createAlertsApp, type AlertsApp } from './app.js';
import type { AlertsConfig } from './config.js';
import { stdoutSink, webhookSink, type AlertSink } from './delivery.js';
import { RedisAlertStore, alertKeys } from './redis-store.js';

/** Prints the dead-lettered alerts of a pipeline (JSON lines) and returns how many there were. */
export async function printDeadLetters(config: AlertsConfig, env: NodeJS.ProcessEnv): Promise<number> {
  const redis = createRedis(redisUrlFromEnv(env), { connectionName: 'smae-alerts' });
  try {
    const items = await redis.lrange(alertKeys(config.names.redisPrefix).dead, 0, -1);
    for (const item of items) process.stdout.write(`${item}\n`);
    return items.length;
  } finally {
    redis.disconnect();
  }
}

/** Gauges read from the consumer's counters at scrape time. */
function registerAlertsMetrics(registry: Registry, app: AlertsApp): void {
  const stats: [keyof AlertsApp['stats'], string][] = [
    ['flags', 'Flags read'],
    ['opened', 'Alerts opened (first flag of a key in its suppression window)'],
    ['suppressed', 'Flags folded into an open alert'],
    ['duplicates', 'Flags seen before (replays)'],
    ['undecodable', 'Flag records that could not be decoded'],
  ];
  for (const [name, help] of stats) {
    new Gauge({
      name: `smae_alerts_${name}`,
      help,
      registers: [registry],
      collect() {
        this.set(app.stats[name]);
      },
    });
  }
  new Gauge({
    name: 'smae_alerts_pending_flags',
    help: 'Flags of scorer transactions not yet committed or aborted, held back',
    registers: [registry],
    collect() {
      this.set(app.pendingFlags);
    },
  });
}

/**
 * The alerts consumer until SIGINT/SIGTERM, on the shared service lifecycle: clients, the consumer and
 * the ops server (/healthz, /readyz, /metrics) start in order and stop in reverse.
 */
export async function runAlerts(config: AlertsConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createLogger({ service: 'alerts', level: config.logLevel });
  await runService({
    logger,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    start: async (control) => {
      const kafkaConn = kafkaConnectionFromEnv(env, { clientId: `smae-alerts-${config.pipeline}` });
      await checkKafkaTls(kafkaConn);
      const kafka = createKafkaPort(kafkaConn, logger);
      const redis = createRedis(redisUrlFromEnv(env), {
        logger,
        connectionName: `smae-alerts-${config.pipeline}`,
      });
      control.onShutdown(() => redis.disconnect());
      let crashed: Error | null = null;
      const app = createAlertsApp({
        kafka,
        store: new RedisAlertStore({
          redis,
          keys: alertKeys(config.names.redisPrefix),
          seenTtlMs: config.seenTtl,
          stateGraceMs: Math.max(3_600_000, config.window),
        }),
        flagsTopic: config.topic,
        groupId: config.group,
        sinks: alertSinks(config),
        windowMs: config.window,
        timeBase: config.timeBase,
        fromBeginning: config.fromBeginning,
        retry: { attempts: config.retryAttempts, baseDelayMs: config.retryBase, maxDelayMs: config.retryMax },
        // The lease must outlast one alert's worst case: every attempt timing out plus every backoff.
        leaseMs: config.retryAttempts * (config.webhookTimeout + config.retryMax) + 30_000,
        logger,
        onFatal: (err) => {
          crashed = err;
          void control.shutdown('consumer-crash', 1);
        },
      });
      const registry = createMetricsRegistry({ service: 'alerts', pipeline: config.pipeline });
      registerAlertsMetrics(registry, app);
      let started = false;
      const ops = await startOpsServer({
        registry,
        port: config.metricsPort,
        host: config.metricsHost,
        logger,
        health: () =>
          crashed ? { ok: false, detail: { reason: `consumer crashed: ${crashed.message}` } } : { ok: true },
        ready: async () => {
          if (!started) return { ok: false, detail: { reason: 'starting' } };
          try {
            await redis.ping();
            return { ok: true, detail: { ...app.stats } };
          } catch (err) {
            return { ok: false, detail: { reason: `redis: ${(err as Error).message}` } };
          }
        },
      });
      control.onShutdown(() => ops.close());
      control.onShutdown(async () => {
        await app.stop();
        logger.info({ ...app.stats, ...app.deliverer.stats }, 'alerts stopped');
      });
      await app.start();
      started = true;
      logger.info({ topic: config.topic, group: config.group, ops: ops.url }, 'alerts started');
    },
  });
}

function alertSinks(config: AlertsConfig): AlertSink[] {
  const sinks: AlertSink[] = [];
  if (config.stdout) sinks.push(stdoutSink(config.format));
  if (config.webhookUrl) {
    sinks.push(
      webhookSink({ url: config.webhookUrl, headers: config.headers, timeoutMs: config.webhookTimeout }),
    );
  }
  return sinks;
}
