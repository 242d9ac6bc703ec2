/**
 * The Kafka port for a connection: kafkajs unless `KAFKA_CLIENT=confluent` chose librdkafka
 * (`@confluentinc/kafka-javascript`, an optional dependency). Services build their port here and nowhere
 * else; README "Kafka clients" says which to use and why.
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
  // Topic configurations are read with kafkajs's admin: librdkafka's cannot describe them here.
  const configs = kafkajsPort(createKafka(conn, logger)).admin();
  return confluentPort(conn, logger, {
    maxMessageBytes: async (topics) => {
      await configs.connect();
      try {
        return await configs.maxMessageBytes(topics);
      } finally {
        await configs.disconnect();
      }
    },
  });
}
