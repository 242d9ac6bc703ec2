import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildScorer } from '../../../../services/scorer/app.js';
import { resolveScorerConfig } from '../../../../services/scorer/config.js';
import { ConfigError } from '../../../../shared/errors.js';
import { createKafka } from '../../../../shared/kafka/client.js';
import { kafkajsPort } from '../../../../shared/kafka/kafkajs-adapter.js';

test('one transaction per member is refused on kafkajs, whose offsets carry no group generation', () => {
  // Nothing connects: the refusal comes while the scorer is built.
  const kafka = kafkajsPort(createKafka({ brokers: ['127.0.0.1:1'], clientId: 'unit' }));
  const config = resolveScorerConfig({
    pipeline: 'payments',
    recordSchema: 'shared/avro/schemas/transaction.avsc',
    transactionScope: 'member',
  });
  assert.throws(
    () =>
      buildScorer(config, {
        kafka,
        models: { watch: () => ({ close: async () => undefined }) },
        loadModel: () => {
          throw new Error('no model in this test');
        },
      }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.issues[0]!.path === 'transactionScope' &&
      /KAFKA_CLIENT=confluent/.test(err.issues[0]!.message),
  );
  assert.equal(kafka.offsetsCarryGeneration, false);
});
