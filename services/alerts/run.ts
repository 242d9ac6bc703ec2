/**
 * Runs the alerts consumer from a validated configuration until SIGINT/SIGTERM (the `smae alerts`
 * command and `services/alerts/main.ts` both call this).
 */
import { checkKafkaTls, createKafka, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { createLogger } from '../../shared/log.js';
import { createAlertsApp } from './app.js';
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

export async function runAlerts(config: AlertsConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createLogger({ service: 'alerts', level: config.logLevel });
  const kafkaConn = kafkaConnectionFromEnv(env, { clientId: `smae-alerts-${config.pipeline}` });
  await checkKafkaTls(kafkaConn);
  const kafka = createKafka(kafkaConn, logger);
  const redis = createRedis(redisUrlFromEnv(env), {
    logger,
    connectionName: `smae-alerts-${config.pipeline}`,
  });
  const store = new RedisAlertStore({
    redis,
    keys: alertKeys(config.names.redisPrefix),
    seenTtlMs: config.seenTtl,
    stateGraceMs: Math.max(3_600_000, config.window),
  });
  const sinks: AlertSink[] = [];
  if (config.stdout) sinks.push(stdoutSink(config.format));
  if (config.webhookUrl) {
    sinks.push(
      webhookSink({ url: config.webhookUrl, headers: config.headers, timeoutMs: config.webhookTimeout }),
    );
  }
  const retry = {
    attempts: config.retryAttempts,
    baseDelayMs: config.retryBase,
    maxDelayMs: config.retryMax,
  };
  // The lease must outlast one alert's worst case: every attempt timing out plus every backoff.
  const leaseMs = config.retryAttempts * (config.webhookTimeout + config.retryMax) + 30_000;
  const app = createAlertsApp({
    kafka,
    store,
    flagsTopic: config.topic,
    groupId: config.group,
    sinks,
    windowMs: config.window,
    timeBase: config.timeBase,
    fromBeginning: config.fromBeginning,
    retry,
    leaseMs,
    logger,
    onFatal: () => {
      process.exitCode = 1;
      fatal();
    },
  });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await app.stop();
      redis.disconnect();
      logger.info({ ...app.stats, ...app.deliverer.stats }, 'alerts stopped');
    })();
    return stopping;
  };
  let fatal = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    fatal = () => void stop().then(resolve);
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void stop().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  try {
    await app.start();
  } catch (err) {
    await stop();
    throw err;
  }
  await done;
}
