/**
 * The scorer process: configuration, clients, start, and shutdown in reverse order.
 *
 *   SMAE_PIPELINE=payments SMAE_RECORD_SCHEMA=shared/avro/schemas/transaction.avsc npx tsx services/scorer/main.ts
 *   npx tsx services/scorer/main.ts --pipeline payments --record-schema my.avsc --delivery at-least-once
 *   npx tsx services/scorer/main.ts --help
 *
 * SIGTERM/SIGINT: stop fetching, finish the batch in flight (its transaction commits) or abort it after
 * `shutdownTimeoutMs`, leave the consumer group, close producers, Redis and the ops server, exit 0.
 * A second signal, or a shutdown still running 10 s past `shutdownTimeoutMs`, exits 1 at once (the open
 * transaction is then aborted by the broker or the next owner).
 */
import { buildScorer } from './app.js';
import { describeSettings, loadScorerConfig } from './config.js';
import { checkKafkaTls, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { createKafkaPort } from '../../shared/kafka/ports.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { requireTopics } from '../../shared/kafka/preflight.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { ModelRegistry, describeTrust } from '../../shared/registry/index.js';
import { Detector, initBackend } from '../../shared/model/index.js';
import { describeError } from '../../shared/errors.js';
import { startOpsServer } from '../../shared/ops/server.js';
import { runMain, runService } from '../../shared/ops/lifecycle.js';
import { wantsHelp } from '../../shared/config/service-config.js';

const USAGE = `smae scorer: scores the pipeline's input topic and writes flags, dead letters and scores.

Settings (flag / environment variable), flags win:
${describeSettings()}

Kafka: KAFKA_BROKERS, KAFKA_CLIENT (kafkajs or confluent), KAFKA_SSL*, KAFKA_SASL_* ; Redis: REDIS_URL.
`;

const CLOSE_GRACE_MS = 10_000;

runMain('scorer', async ({ createLogger }) => {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(USAGE);
    return;
  }
  const config = loadScorerConfig(process.env, argv);
  const logger = createLogger(config.logLevel);

  await runService({
    logger,
    // The scorer bounds its own drain by shutdownTimeoutMs (then aborts the batch in flight); the
    // process allows a little more for closing producers and clients after that.
    shutdownTimeoutMs: config.shutdownTimeoutMs + CLOSE_GRACE_MS,
    start: async (service) => {
      const backend = await initBackend({ prefer: config.backend, logger });
      // Retries are counted once the scorer (and its metrics) exist; kafkajs logs them at debug.
      let onRetry: (errorType: string) => void = () => undefined;
      const kafkaConn = kafkaConnectionFromEnv(process.env, { clientId: `smae-scorer-${config.pipeline}` });
      await checkKafkaTls(kafkaConn);
      const kafka = createKafkaPort(kafkaConn, logger, { onRetry: (type) => onRetry(type) });
      const redis = createRedis(redisUrlFromEnv(process.env), {
        logger,
        connectionName: `smae-scorer-${config.pipeline}`,
      });
      service.onShutdown(() => redis.quit().catch(() => redis.disconnect()));
      const registry = new ModelRegistry({ redis, pipeline: config.pipeline, logger });

      const admin = kafka.admin();
      await admin.connect();
      try {
        if (config.ensureTopics) {
          await ensurePipelineTopics(admin, config.names, { partitions: config.topicPartitions, logger });
        }
        // Topics the scorer reads and writes (overrides included): missing ones stop it here, by name.
        const t = config.topics;
        await requireTopics(
          admin,
          [t.input, t.flags, t.deadLetters, ...(config.emitScores ? [t.scores] : [])],
          {
            ensureSetting: 'SMAE_ENSURE_TOPICS=true (or --ensure-topics true)',
            partitions: config.topicPartitions,
            who: 'the scorer',
          },
        );
      } finally {
        await admin.disconnect();
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
          void service.shutdown('consumer-crash', 1);
        },
      });
      onRetry = (type) => scorer.metrics.kafkaRetries.inc({ error: type });
      const ops = await startOpsServer({
        registry: scorer.metricsRegistry,
        health: () => scorer.health(),
        ready: () => scorer.ready(),
        port: config.metricsPort,
        host: config.metricsHost,
        logger,
      });
      service.onShutdown(() => ops.close());
      service.onShutdown(() => scorer.stop());
      logger.info(
        {
          backend,
          kafkaClient: kafkaConn.client ?? 'kafkajs',
          delivery: config.delivery,
          ...(config.delivery === 'exactly-once' ? { transactionScope: config.transactionScope } : {}),
          input: config.topics.input,
          ops: ops.url,
          models: describeTrust(registry.trust),
        },
        'scorer starting',
      );
      await scorer.start(); // rejects if stopped while waiting for a model: runService ignores that
    },
  });
});
