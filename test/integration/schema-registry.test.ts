/**
 * The scorer against a real Confluent-compatible schema registry (Apicurio Registry 3.x, started by
 * test/run.ts or by test/helpers/schema-registry.ts) and the real broker and Redis:
 *
 * - an independent producer (the registry client library, not this project's encoder) registers the
 *   record schema and an evolved one (a new field with a default) under `<records topic>-value` and writes
 *   the Confluent wire format; the scorer resolves both ids through the registry to its reader schema;
 * - a record framed with an id the registry does not know goes to the dead-letter topic;
 * - flags and scores come out framed with ids registered under `<topic>-value`, and the library's own
 *   `decode` (what a stock Confluent consumer does) reads them;
 * - the registry going away makes batches fail and retry (no dead letters), and scoring resumes once it
 *   is back.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  encodeRecord,
  isConfluentFramed,
  TRANSACTION_SCHEMA,
  valueSubject,
  type FlagRecord,
  type ScoreRecord,
} from '../../shared/avro/index.js';
import { DEAD_LETTER_HEADERS, headerString } from '../../shared/scoring/index.js';
import type { PipelineNames } from '../../shared/pipeline.js';
import type { ModelArtifact } from '../../shared/model/index.js';
import { testAdmin, testKafka, testProducer } from '../helpers/infra.js';
import { registryProxy, testRegistryUrl } from '../helpers/schema-registry.js';
import { waitFor } from '../helpers/wait.js';
import {
  anomalousTransaction,
  ensureBackend,
  groupCaughtUp,
  normalTransaction,
  produceAll,
  readTopicToEnd,
  rng,
  testScorer,
  tinyModelArtifact,
  pipelineWithModel,
} from '../fixtures/transactions.js';

const UNKNOWN_ID = 1_999_999_999;

/** The transaction schema with one more field, defaulted: a compatible evolution of the writer schema. */
const EVOLVED_SCHEMA = (() => {
  const s = TRANSACTION_SCHEMA.schema() as { fields: unknown[] };
  return { ...s, fields: [...s.fields, { name: 'note', type: 'string', default: '' }] };
})();

let artifact: ModelArtifact;
let registryUrl: string;

before(async () => {
  await ensureBackend();
  artifact = await tinyModelArtifact({ seed: 5 });
  registryUrl = await testRegistryUrl();
});

/** A producer-side registry client: the library alone, as an independent producer would use it. */
function producerRegistry(): SchemaRegistry {
  return new SchemaRegistry({ host: registryUrl, retry: { retries: 1 } });
}

async function registerInput(registry: SchemaRegistry, names: PipelineNames): Promise<[number, number]> {
  const subject = valueSubject(names.topics.records);
  const v1 = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(TRANSACTION_SCHEMA.schema()) },
    { subject },
  );
  const v2 = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(EVOLVED_SCHEMA) },
    { subject },
  );
  assert.notEqual(v1.id, v2.id, 'the evolved schema is a new id');
  return [v1.id, v2.id];
}

async function batchErrors(scorer: {
  metricsRegistry: { getSingleMetric(n: string): unknown };
}): Promise<number> {
  const metric = scorer.metricsRegistry.getSingleMetric('smae_scorer_batch_errors_total') as
    { get(): Promise<{ values: { value: number }[] }> } | undefined;
  if (metric === undefined) return 0;
  return (await metric.get()).values.reduce((a, v) => a + v.value, 0);
}

describe('schema registry (Apicurio, Confluent API)', () => {
  test('ids resolve through the registry, an evolved writer schema reads as the reader schema, an unknown id is dead-lettered, outputs are Confluent-framed', async (t) => {
    const { names, registry: models } = await pipelineWithModel(t, artifact, { partitions: 2, prefix: 'sr' });
    const admin = await testAdmin(t);
    const registry = producerRegistry();
    const [v1, v2] = await registerInput(registry, names);

    const kafka = testKafka('scorer-registry');
    const scorer = testScorer(
      t,
      names,
      { kafka, models, resolveSchemaId: undefined },
      { schemaRegistryUrl: registryUrl, wireFormat: 'confluent', emitScores: true },
    );
    await scorer.start();

    // 150 records written with v1, 150 with v2 (the evolved schema), 8 anomalies among the v2 ones,
    // one record framed with an id the registry does not know.
    const r = rng(9);
    const messages: { key: string; value: Buffer; partition: number }[] = [];
    let anomalies = 0;
    for (let i = 0; i < 300; i++) {
      const evolved = i >= 150;
      const anomaly = evolved && i % 19 === 0;
      if (anomaly) anomalies++;
      const tx = anomaly ? anomalousTransaction(i) : normalTransaction(i, r);
      const value = evolved
        ? await registry.encode(v2, { ...tx, note: `n${i}` })
        : await registry.encode(v1, tx);
      messages.push({ key: tx.accountId, value, partition: i % 2 });
    }
    messages.push({
      key: 'unknown',
      value: encodeRecord(TRANSACTION_SCHEMA, normalTransaction(999, r), { schemaId: UNKNOWN_ID }),
      partition: 0,
    });
    const producer = await testProducer(t);
    await produceAll(producer, names.topics.records, messages);
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      timeoutMs: 90_000,
      message: 'the scorer consumed every record',
    });

    const dlq = await readTopicToEnd(kafka, admin, names.topics.deadLetters);
    assert.equal(dlq.length, 1, 'only the unknown id is dead-lettered (v1 and v2 both resolve)');
    assert.equal(headerString(dlq[0]!.headers, DEAD_LETTER_HEADERS.errorCode), 'UNKNOWN_SCHEMA_ID');

    // Flags and scores read by the library's own decode, through the ids registered under <topic>-value.
    const flags = await readTopicToEnd(kafka, admin, names.topics.flags);
    assert.equal(flags.length, anomalies, 'every anomaly flagged, nothing else');
    const flagId = await registry.getLatestSchemaId(valueSubject(names.topics.flags));
    for (const m of flags) {
      assert.ok(isConfluentFramed(m.value!), 'a flag carries the Confluent header');
      assert.equal(m.value!.readInt32BE(1), flagId, 'framed with the id registered under <flags>-value');
      const flag = (await registry.decode(m.value!)) as FlagRecord;
      assert.equal(flag.pipeline, names.name);
      assert.equal(flag.topic, names.topics.records);
      assert.ok(flag.score > flag.threshold);
      assert.ok(flag.topFeatures.length > 0);
    }
    const scores = await readTopicToEnd(kafka, admin, names.topics.scores);
    assert.equal(scores.length, 300, 'one score per decoded record');
    const scoreId = await registry.getLatestSchemaId(valueSubject(names.topics.scores));
    assert.equal(scores[0]!.value!.readInt32BE(1), scoreId);
    const score = (await registry.decode(scores[0]!.value!)) as ScoreRecord;
    assert.equal(score.pipeline, names.name);
  });

  test('the registry going away makes batches retry, not dead-letter; scoring resumes when it is back', async (t) => {
    const { names, registry: models } = await pipelineWithModel(t, artifact, { partitions: 2, prefix: 'sr' });
    const admin = await testAdmin(t);
    const registry = producerRegistry();
    const [v1] = await registerInput(registry, names);
    const proxy = await registryProxy(t, registryUrl);

    const kafka = testKafka('scorer-registry-away');
    const scorer = testScorer(
      t,
      names,
      { kafka, models, resolveSchemaId: undefined },
      { schemaRegistryUrl: proxy.url, wireFormat: 'confluent' },
    );
    await scorer.start(); // registers the output schemas through the relay
    await proxy.close(); // the registry is gone before the scorer has looked up any input id

    const r = rng(4);
    const messages: { key: string; value: Buffer; partition: number }[] = [];
    let anomalies = 0;
    for (let i = 0; i < 100; i++) {
      const anomaly = i % 13 === 5;
      if (anomaly) anomalies++;
      const tx = anomaly ? anomalousTransaction(i) : normalTransaction(i, r);
      messages.push({ key: tx.accountId, value: await registry.encode(v1, tx), partition: i % 2 });
    }
    const producer = await testProducer(t);
    await produceAll(producer, names.topics.records, messages);

    await waitFor(async () => (await batchErrors(scorer)) >= 2, {
      timeoutMs: 60_000,
      message: 'batches failed (and were retried) while the registry was away',
    });
    assert.equal(
      await groupCaughtUp(admin, names.groups.scorer, names.topics.records),
      false,
      'nothing committed',
    );

    await proxy.open();
    await waitFor(() => groupCaughtUp(admin, names.groups.scorer, names.topics.records), {
      timeoutMs: 120_000,
      message: 'the scorer consumed every record once the registry was back',
    });
    const dlq = await readTopicToEnd(kafka, admin, names.topics.deadLetters);
    assert.deepEqual(
      dlq.map((m) => headerString(m.headers, DEAD_LETTER_HEADERS.errorCode)),
      [],
      'no record was dead-lettered because the registry was away',
    );
    const flags = await readTopicToEnd(kafka, admin, names.topics.flags);
    assert.equal(flags.length, anomalies, 'every anomaly flagged after the retry');
  });
});
