/**
 * The scorer process: configuration, clients, start, and shutdown in reverse order.
 *
 *   SMAE_PIPELINE=payments SMAE_RECORD_SCHEMA=shared/avro/schemas/transaction.avsc npx tsx services/scorer/main.ts
 *   npx tsx services/scorer/main.ts --pipeline payments --record-schema my.avsc --delivery at-least-once
 *   npx tsx services/scorer/main.ts --help
 *
 * SIGTERM/SIGINT: stop fetching, finish the batch in flight (its transaction commits) or abort it after
 * `shutdownTimeoutMs`, leave the consumer group, close producers, Redis and the ops server, exit 0.
 * A second signal exits at once (the open transaction is then aborted by the broker or the next owner).
 */
import { buildScorer } from './app.js';
import { describeSettings, loadScorerConfig } from './config.js';
import { createKafka, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { Detector, initBackend } from '../../shared/model/index.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { describeError } from '../../shared/errors.js';
import { startOpsServer } from '../../shared/ops/server.js';

const USAGE = `smae scorer: scores the pipeline's input topic and writes flags, dead letters and scores.

Settings (flag / environment variable), flags win:
${describeSettings()}

Kafka: KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL_* ; Redis: REDIS_URL.
`;

async function main(log: { current: Logger }): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const config = loadScorerConfig(process.env, argv);
  const logger = createLogger({ service: 'scorer', level: config.logLevel });
  log.current = logger;

  // Signals are handled from the start: before the scorer exists there is nothing to drain.
  let stop: (() => Promise<void>) | null = null;
  let shuttingDown = false;
  const shutdown = async (signal: string, exitCode = 0): Promise<void> => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    try {
      await stop?.();
      logger.info('bye');
      process.exit(exitCode);
    } catch (err) {
      logger.error({ err: describeError(err) }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const backend = await initBackend({ prefer: config.backend, logger });
  const kafka = createKafka(
    kafkaConnectionFromEnv(process.env, { clientId: `smae-scorer-${config.pipeline}` }),
    logger,
  );
  const redis = createRedis(redisUrlFromEnv(process.env), {
    logger,
    connectionName: `smae-scorer-${config.pipeline}`,
  });
  const registry = new ModelRegistry({ redis, pipeline: config.pipeline, logger });
  stop = async () => {
    await redis.quit().catch(() => redis.disconnect());
  };

  if (config.ensureTopics) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensurePipelineTopics(admin, config.names, { partitions: config.topicPartitions, logger });
    } finally {
      await admin.disconnect();
    }
  }

  const scorer = buildScorer(config, {
    kafka,
    redis,
    models: registry,
    loadModel: (artifact) => Detector.fromArtifact(artifact),
    logger,
    onFatal: (err) => {
      logger.fatal(
        { err: describeError(err) },
        'the consumer stopped for good; exiting so the scorer is restarted',
      );
      void shutdown('consumer-crash', 1);
    },
  });
  const ops = await startOpsServer({
    registry: scorer.metricsRegistry,
    health: () => scorer.health(),
    ready: () => scorer.ready(),
    port: config.metricsPort,
    host: config.metricsHost,
    logger,
  });
  logger.info(
    { backend, delivery: config.delivery, input: config.topics.input, ops: ops.url },
    'scorer starting',
  );

  try {
    await scorer.start();
  } catch (err) {
    if (shuttingDown) return; // stopped while waiting for a model
    throw err;
  }
}

const log: { current: Logger } = { current: createLogger({ service: 'scorer' }) };
main(log).catch((err: unknown) => {
  log.current.fatal({ err: describeError(err) }, 'scorer failed');
  process.exit(1);
});
