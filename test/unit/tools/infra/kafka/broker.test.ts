import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLocalBrokerList, randomClusterId } from '../../../../../tools/infra/kafka/broker.js';
import { localBrokerOptionsFromEnv } from '../../../../../tools/infra/kafka/options.js';

test('KAFKA_BROKERS unset or naming the local broker means "manage the local broker"', () => {
  assert.equal(isLocalBrokerList(undefined), true);
  assert.equal(isLocalBrokerList(''), true);
  assert.equal(isLocalBrokerList('127.0.0.1:9092'), true);
  assert.equal(isLocalBrokerList('localhost:9092'), true);
  assert.equal(isLocalBrokerList('127.0.0.1:19092', { port: 19092 }), true);
});

test('any other KAFKA_BROKERS is an external cluster', () => {
  assert.equal(isLocalBrokerList('kafka:9092'), false);
  assert.equal(isLocalBrokerList('127.0.0.1:9094'), false);
  assert.equal(isLocalBrokerList('127.0.0.1:9092,kafka:9092'), false);
});

test('cluster ids look like Kafka Uuids and differ', () => {
  const ids = new Set(Array.from({ length: 200 }, () => randomClusterId()));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
});

test('broker options from the environment: ports, controller port next to a custom port, validation', () => {
  const defaults = localBrokerOptionsFromEnv({});
  assert.equal(defaults.port, 9092);
  assert.equal(defaults.controllerPort, 9093);
  assert.equal(defaults.brokersEnv, undefined);

  const custom = localBrokerOptionsFromEnv({
    KAFKA_LOCAL_PORT: '19092',
    KAFKA_VERSION: '3.9.1',
    KAFKA_JVM_OPTS: ' -Xmx512m  -Dfoo=bar ',
    KAFKA_BROKERS: '127.0.0.1:19092',
  });
  assert.equal(custom.port, 19092);
  assert.equal(custom.controllerPort, 19093);
  assert.equal(custom.version, '3.9.1');
  assert.deepEqual(custom.jvmOptions, ['-Xmx512m', '-Dfoo=bar']);
  assert.equal(isLocalBrokerList(custom.brokersEnv, custom), true);

  assert.throws(() => localBrokerOptionsFromEnv({ KAFKA_LOCAL_PORT: '70000' }), /KAFKA_LOCAL_PORT/);
  assert.throws(() => localBrokerOptionsFromEnv({ KAFKA_VERSION: 'latest' }), /KAFKA_VERSION/);
});
