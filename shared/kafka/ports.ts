/**
 * The Kafka port for a connection: kafkajs unless `KAFKA_CLIENT=confluent` chose librdkafka
 * (`@confluentinc/kafka-javascript`, an optional dependency). Services, the CLI and the demo build their
 * port here and nowhere else; README "Kafka clients" says which to use and why.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { createKafka, type KafkaClientHooks, type KafkaConnection } from './client.js';
import { confluentPort } from './confluent-adapter.js';
import { kafkajsPort } from './kafkajs-adapter.js';
import type { KafkaPort } from './port.js';

export function createKafkaPort(
  conn: KafkaConnection,
  logger: Logger = silentLogger,
  hooks: KafkaClientHooks = {},
): KafkaPort {
  if (conn.client !== 'confluent') return kafkajsPort(createKafka(conn, logger, hooks));
  // Topic administration and the committed-records reader stay on kafkajs (confluent-adapter.ts says why).
  return confluentPort(conn, logger, { kafkajs: kafkajsPort(createKafka(conn, logger)) });
}
