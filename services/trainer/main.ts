/**
 * The trainer process: configuration, clients, start, and shutdown in reverse order.
 *
 *   SMAE_PIPELINE=payments SMAE_RECORD_SCHEMA=shared/avro/schemas/transaction.avsc \
 *     SMAE_EXCLUDE=accountId,eventTime npx tsx services/trainer/main.ts
 *   npx tsx services/trainer/main.ts --pipeline demo --data ../shared/data/thyroid.csv --interval-ms 3600000
 *   npx tsx services/trainer/main.ts --help
 *
 * SIGTERM/SIGINT: no new runs; a training in progress is aborted (its worker thread terminated, nothing
 * published); a publish in progress completes; the lease is released; Kafka and Redis clients and the
 * ops server are closed; exit 0. If that takes longer than `shutdownTimeoutMs`, or on a second signal,
 * exit 1 at once.
 */
import { buildTrainer } from './app.js';
import { describeSettings, loadTrainerConfig } from './config.js';
import { createKafka, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import {
  loadSchemaFile,
  RecordDecoder,
  schemaIdDirectory,
  schemaRegistryIds,
} from '../../shared/avro/index.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { describeError } from '../../shared/errors.js';

const USAGE = `smae trainer: retrains the pipeline's model on a schedule and publishes it to the registry.

Settings (flag / environment variable), flags win:
${describeSettings()}

Kafka: KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL_* ; Redis: REDIS_URL.
Endpoints: GET /healthz, /readyz, /metrics on the metrics port.
`;

async function main(log: { current: Logger }): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const { settings, service } = loadTrainerConfig(process.env, argv);
  const logger = createLogger({ service: 'trainer', level: settings.logLevel });
  log.current = logger;

  const redis = createRedis(redisUrlFromEnv(process.env), {
    logger,
    connectionName: `smae-trainer-${settings.pipeline}`,
  });
  let deps: Parameters<typeof buildTrainer>[1] = { redis, logger };
  if (service.source.kind === 'topic') {
    const kafka = createKafka(
      kafkaConnectionFromEnv(process.env, { clientId: `smae-trainer-${settings.pipeline}` }),
      logger,
    );
    const resolveSchemaId = settings.schemaRegistryUrl
      ? schemaRegistryIds({ url: settings.schemaRegistryUrl })
      : settings.schemaIdsDir
        ? schemaIdDirectory(settings.schemaIdsDir)
        : undefined;
    const decoder = new RecordDecoder({
      readerSchema: loadSchemaFile(settings.recordSchema!),
      wireFormat: settings.wireFormat,
      ...(resolveSchemaId ? { resolveSchemaId } : {}),
    });
    deps = { ...deps, kafka, decoder };
  }

  const trainer = buildTrainer(service, deps);

  let shuttingDown = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: settings.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, settings.shutdownTimeoutMs);
    deadline.unref();
    try {
      await trainer.stop();
      await redis.quit().catch(() => redis.disconnect());
      logger.info('bye');
      process.exit(0);
    } catch (err) {
      logger.error({ err: describeError(err) }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await trainer.start();
}

const log: { current: Logger } = { current: createLogger({ service: 'trainer' }) };
main(log).catch((err: unknown) => {
  log.current.fatal({ err: describeError(err) }, 'trainer failed');
  process.exit(1);
});
