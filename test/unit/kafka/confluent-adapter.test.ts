import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isFencingError,
  isRecordRejection,
  librdkafkaSecurity,
} from '../../../shared/kafka/confluent-adapter.js';

test('fencing errors are recognised by librdkafka code, also when wrapped', () => {
  assert.ok(isFencingError({ code: 90 })); // PRODUCER_FENCED
  assert.ok(isFencingError({ code: 47 })); // INVALID_PRODUCER_EPOCH
  assert.ok(isFencingError(Object.assign(new Error('wrapped'), { cause: { code: -144 } }))); // _FENCED
  assert.ok(!isFencingError({ code: 51 })); // CONCURRENT_TRANSACTIONS
  assert.ok(!isFencingError(new Error('timed out')));
  assert.ok(!isFencingError(undefined));
});

test('record rejections (size, content) are told apart from other failures', () => {
  assert.ok(isRecordRejection({ code: 10 })); // MSG_SIZE_TOO_LARGE
  assert.ok(isRecordRejection(Object.assign(new Error('send'), { cause: { code: 18 } }))); // RECORD_LIST_TOO_LARGE
  assert.ok(isRecordRejection({ code: 87 })); // INVALID_RECORD
  assert.ok(!isRecordRejection({ code: 51 }));
  assert.ok(!isRecordRejection(new Error('deliberately stuck')));
});

test('the connection’s TLS and SASL settings become librdkafka properties', () => {
  assert.deepEqual(librdkafkaSecurity({ brokers: ['b:9092'], clientId: 'c' }), {});
  assert.deepEqual(librdkafkaSecurity({ brokers: ['b:9093'], clientId: 'c', ssl: true }), {
    'security.protocol': 'ssl',
  });
  assert.deepEqual(
    librdkafkaSecurity({
      brokers: ['b:9094'],
      clientId: 'c',
      ssl: { ca: Buffer.from('CA PEM'), rejectUnauthorized: false },
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    }),
    {
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'u',
      'sasl.password': 'p',
      'ssl.ca.pem': 'CA PEM',
      'enable.ssl.certificate.verification': false,
    },
  );
  assert.deepEqual(
    librdkafkaSecurity({
      brokers: ['b:9092'],
      clientId: 'c',
      sasl: { mechanism: 'plain', username: 'u', password: 'p' },
    })['security.protocol'],
    'sasl_plaintext',
  );
});
