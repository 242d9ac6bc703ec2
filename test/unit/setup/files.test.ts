import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchema } from '../../../shared/avro/schemas.js';
import { encodeRecord } from '../../../shared/avro/encoder.js';
import { parseFeatureSpec } from '../../../shared/preprocessing/spec-file.js';
import { inferSetup } from '../../../shared/setup/infer.js';
import {
  envFileText,
  featuresFileText,
  nextCommands,
  recordName,
  recordSchemaText,
  type SetupContext,
} from '../../../shared/setup/files.js';

const ROWS = Array.from({ length: 40 }, (_, i) => ({
  meter_id: `m${i % 5}`,
  read_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  zone: i % 2 ? 'a' : 'b',
  load: i % 3 === 0 ? '' : 1 + i,
  label: 0,
}));
const SETUP = inferSetup(['meter_id', 'read_at', 'zone', 'load', 'label'], ROWS);
const CTX: SetupContext = {
  pipeline: 'meters-eu',
  source: 'meters.csv',
  csvPath: 'meters.csv',
  outDir: 'meters',
  schemaPath: '/abs/meters/record.avsc',
  featuresPath: '/abs/meters/features.json',
  kafkaBrokers: 'k1:9092,k2:9092',
  redisUrl: 'redis://r:6379',
};

describe('setup files', () => {
  test('record.avsc: key, event time (timestamp-millis), features; a feature with gaps is nullable', () => {
    const schema = JSON.parse(recordSchemaText(SETUP, 'meters-eu')) as {
      name: string;
      fields: { name: string; type: unknown; default?: unknown }[];
    };
    assert.equal(schema.name, 'MetersEuRecord');
    assert.deepEqual(
      schema.fields.map((f) => [f.name, f.type]),
      [
        ['meter_id', 'string'],
        ['read_at', { type: 'long', logicalType: 'timestamp-millis' }],
        ['load', ['null', 'double']],
        ['zone', 'string'],
      ],
    );
    assert.equal(schema.fields[2]!.default, null);
    // A valid Avro schema that encodes a record with a missing load.
    const type = parseSchema(recordSchemaText(SETUP, 'meters-eu'));
    assert.ok(encodeRecord(type, { meter_id: 'm1', read_at: 1, load: null, zone: 'a' }).length > 0);
  });

  test('features.json is a feature spec the trainer reads, with the notes beside it', () => {
    const json = JSON.parse(featuresFileText(SETUP, 'meters.csv')) as Record<string, unknown>;
    assert.deepEqual(parseFeatureSpec(json), SETUP.spec);
    assert.equal(json['keyField'], 'meter_id');
    assert.equal(json['eventTimeField'], 'read_at');
    assert.deepEqual(json['inferredFrom'], { source: 'meters.csv', rows: 40 });
    assert.equal((json['leftOut'] as unknown[]).length, 1);
  });

  test('smae.env: every setting the services read, each commented; per-process ones commented out', () => {
    const env = envFileText(SETUP, CTX);
    const set = Object.fromEntries(
      env
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    assert.deepEqual(set, {
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      REDIS_URL: 'redis://r:6379',
      SMAE_PIPELINE: 'meters-eu',
      SMAE_ENSURE_TOPICS: 'true',
      SMAE_TOPIC_PARTITIONS: '6',
      SMAE_RECORD_SCHEMA: '/abs/meters/record.avsc',
      SMAE_WIRE_FORMAT: 'auto',
      SMAE_KEY_FIELD: 'meter_id',
      SMAE_EVENT_TIME_FIELD: 'read_at',
      SMAE_FEATURES: '/abs/meters/features.json',
      SMAE_DATA: 'meters.csv',
      SMAE_BACKEND: 'auto',
      SMAE_DELIVERY: 'exactly-once',
      SMAE_EMIT_SCORES: 'false',
      SMAE_TOP_K: '5',
      SMAE_METRICS_HOST: '0.0.0.0',
      SMAE_LOG_LEVEL: 'info',
    });
    for (const off of ['SMAE_METRICS_PORT', 'SMAE_SCHEMA_REGISTRY_URL', 'SMAE_SCHEMA_IDS_DIR'])
      assert.match(env, new RegExp(`^# ${off}=`, 'm'));
    // Every setting line follows a comment line or another setting of the same block.
    const lines = env.split('\n');
    for (const [i, l] of lines.entries()) {
      if (/^[A-Z_]+=/.test(l)) assert.ok(lines[i - 1]!.startsWith('#') || /^[A-Z_#]/.test(lines[i - 1]!), l);
    }
    assert.match(env, /meters-eu\.records, meters-eu\.flags/);
  });

  test('next commands: train with the spec, scorer and adapter with the settings, produce, read flags', () => {
    assert.deepEqual(nextCommands(CTX), [
      'npx smae train --data meters.csv --pipeline meters-eu --features meters/features.json --env-file meters/smae.env',
      'npx tsx --env-file=meters/smae.env services/scorer/main.ts 2> meters/scorer.log &',
      'npx tsx --env-file=meters/smae.env services/adapter/main.ts 2> meters/adapter.log &',
      'npx smae produce --data meters.csv --env-file meters/smae.env',
      'npx smae flags --pipeline meters-eu --from-beginning --limit 10',
    ]);
  });

  test('recordName makes an Avro name of any pipeline name', () => {
    assert.equal(recordName('payments-eu.v2'), 'PaymentsEuV2Record');
    assert.equal(recordName('9lives'), 'P9livesRecord');
  });
});
