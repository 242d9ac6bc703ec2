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
import { checkKafkaTls, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { createKafkaPort } from '../../shared/kafka/ports.js';
import { requireTopics } from '../../shared/kafka/preflight.js';
import { describeFitIssue, featureFitIssues } from '../../shared/avro/feature-fit.js';
import { ConfigError } from '../../shared/errors.js';
import { assertCanPublish, processModelTrust } from '../../shared/registry/signing.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { loadSchemaFile, RecordDecoder, schemaIdSource } from '../../shared/avro/index.js';
import { wantsHelp } from '../../shared/config/service-config.js';
import { runMain, runService } from '../../shared/ops/lifecycle.js';

const USAGE = `smae trainer: retrains the pipeline's model on a schedule and publishes it to the registry.

Settings (flag / environment variable), flags win:
${describeSettings()}

Kafka: KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL_* ; Redis: REDIS_URL.
Endpoints: GET /healthz, /readyz, /metrics on the metrics port.
`;

runMain('trainer', async ({ createLogger }) => {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(USAGE);
    return;
  }
  const { settings, service } = loadTrainerConfig(process.env, argv);
  const logger = createLogger(settings.logLevel);

  await runService({
    logger,
    shutdownTimeoutMs: settings.shutdownTimeoutMs,
    start: async (control) => {
      const redis = createRedis(redisUrlFromEnv(process.env), {
        logger,
        connectionName: `smae-trainer-${settings.pipeline}`,
      });
      control.onShutdown(() => redis.quit().catch(() => redis.disconnect()));
      let deps: Parameters<typeof buildTrainer>[1] = { redis, logger };
      if (service.source.kind === 'topic') {
        const kafkaConn = kafkaConnectionFromEnv(process.env, {
          clientId: `smae-trainer-${settings.pipeline}`,
        });
        await checkKafkaTls(kafkaConn);
        const kafka = createKafkaPort(kafkaConn, logger);
        const resolveSchemaId = schemaIdSource(settings);
        const readerSchema = loadSchemaFile(settings.recordSchema!);
        if (service.training.spec) {
          const issues = featureFitIssues(readerSchema, service.training.spec);
          if (issues.length > 0) {
            throw new ConfigError(
              `the record schema ${settings.recordSchema} cannot feed the feature spec ${settings.features}`,
              issues.map((i) => ({ path: i.field, message: describeFitIssue(i) })),
            );
          }
        }
        const admin = kafka.admin();
        await admin.connect();
        try {
          await requireTopics(admin, [service.source.topic], {
            ensureSetting: 'SMAE_ENSURE_TOPICS=true on the scorer (which creates the pipeline topics)',
            who: 'the trainer',
          });
        } finally {
          await admin.disconnect();
        }
        const decoder = new RecordDecoder({
          readerSchema,
          wireFormat: settings.wireFormat,
          ...(resolveSchemaId ? { resolveSchemaId } : {}),
        });
        deps = { ...deps, kafka, decoder };
      }

      // Publishes signed models: without a signing key (or the development switch) stop now.
      assertCanPublish(processModelTrust());
      const trainer = buildTrainer(service, deps);
      control.onShutdown(() => trainer.stop());
      await trainer.start();
    },
  });
});
