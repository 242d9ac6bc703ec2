import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createKafka, kafkaConnectionFromEnv } from '../../../shared/kafka/client.js';
import { ConfigError } from '../../../shared/errors.js';

function configIssues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues.map((i) => i.path).sort();
  }
  assert.fail('expected a ConfigError');
}

describe('kafkaConnectionFromEnv', () => {
  test('defaults to the local broker without TLS or SASL', () => {
    const conn = kafkaConnectionFromEnv({});
    assert.deepEqual(conn, { brokers: ['127.0.0.1:9092'], clientId: 'smae' });
  });

  test('KAFKA_CLIENT chooses the client library: kafkajs or confluent, nothing else', () => {
    assert.equal(kafkaConnectionFromEnv({ KAFKA_CLIENT: 'confluent' }).client, 'confluent');
    assert.equal(kafkaConnectionFromEnv({ KAFKA_CLIENT: 'kafkajs' }).client, 'kafkajs');
    assert.equal(kafkaConnectionFromEnv({ KAFKA_CLIENT: '' }).client, undefined);
    assert.deepEqual(
      configIssues(() => kafkaConnectionFromEnv({ KAFKA_CLIENT: 'rdkafka' })),
      ['KAFKA_CLIENT'],
    );
  });

  test('parses a broker list, client id, timeouts and log level; empty values count as unset', () => {
    const conn = kafkaConnectionFromEnv(
      {
        KAFKA_BROKERS: ' kafka-1:9092, kafka-2:9093 ,',
        KAFKA_CLIENT_ID: '',
        KAFKA_CONNECTION_TIMEOUT_MS: '3000',
        KAFKA_REQUEST_TIMEOUT_MS: '45000',
        KAFKA_LOG_LEVEL: 'info',
      },
      { clientId: 'smae-scorer' },
    );
    assert.deepEqual(conn, {
      brokers: ['kafka-1:9092', 'kafka-2:9093'],
      clientId: 'smae-scorer',
      connectionTimeout: 3000,
      requestTimeout: 45000,
      logLevel: 'info',
    });
  });

  test('passes SASL and TLS through', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smae-tls-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA-PEM');
    const conn = kafkaConnectionFromEnv({
      KAFKA_BROKERS: 'b.example:9094',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'),
      KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 's3cret',
    });
    assert.deepEqual(conn.sasl, { mechanism: 'scram-sha-512', username: 'svc', password: 's3cret' });
    assert.ok(typeof conn.ssl === 'object');
    assert.equal(conn.ssl.ca?.toString(), 'CA-PEM');
    assert.equal(conn.ssl.rejectUnauthorized, false);
    assert.equal(kafkaConnectionFromEnv({ KAFKA_SSL: '1' }).ssl, true);
    assert.equal(kafkaConnectionFromEnv({ KAFKA_SSL: 'false' }).ssl, undefined);
  });

  test('reports every problem at once', () => {
    assert.deepEqual(
      configIssues(() =>
        kafkaConnectionFromEnv({
          KAFKA_BROKERS: 'no-port',
          KAFKA_SSL: 'maybe',
          KAFKA_CONNECTION_TIMEOUT_MS: '-5',
          KAFKA_SASL_MECHANISM: 'gssapi',
        }),
      ),
      ['KAFKA_BROKERS', 'KAFKA_CONNECTION_TIMEOUT_MS', 'KAFKA_SASL_MECHANISM', 'KAFKA_SSL'],
    );
    assert.deepEqual(
      configIssues(() => kafkaConnectionFromEnv({ KAFKA_SASL_MECHANISM: 'plain' })),
      ['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_USERNAME'],
    );
    assert.deepEqual(
      configIssues(() => kafkaConnectionFromEnv({ KAFKA_SASL_USERNAME: 'u' })),
      ['KAFKA_SASL_MECHANISM'],
    );
    assert.deepEqual(
      configIssues(() => kafkaConnectionFromEnv({ KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' })),
      ['KAFKA_SSL_CA_FILE'],
    );
  });
});

test('createKafka routes kafkajs log lines into the pino logger', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 't', logLevel: 'warn' }, logger);
  kafka.logger().error('broker gone', { broker: '127.0.0.1:1' });
  kafka.logger().info('below the kafkajs level');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.msg, 'broker gone');
  assert.equal(lines[0]?.component, 'kafkajs');
  assert.equal(lines[0]?.broker, '127.0.0.1:1');
  assert.equal(lines[0]?.level, 50);
});
