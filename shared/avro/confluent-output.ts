/**
 * Outputs a stock Confluent consumer can read: with a schema registry configured, the pipeline's own
 * record schemas (flags, scores) are registered under the subjects `<topic>-value` (Confluent's
 * TopicNameStrategy) and every output value is framed with the registered id (magic byte 0, the id as a
 * 4-byte big-endian int, the Avro body), so `KafkaAvroDeserializer`, `kcat -s value=avro -r URL` or any
 * registry client decode them. Without a registry outputs stay raw Avro (the schemas are in the repository,
 * `shared/avro/schemas/`).
 *
 * Registration happens once, at start; records are then encoded by the project's encoder with the id
 * (`encodeRecord(type, value, { schemaId })`), never through the client library per record.
 */
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { SmaeError } from '../errors.js';
import { createSchemaRegistry, registryErrorStatus, type SchemaRegistryOptions } from './schema-ids.js';
import type { AvroType } from './schemas.js';

/** Confluent's default subject for a topic's values (TopicNameStrategy). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/**
 * Registers each schema under `<topic>-value` and returns the ids by the same keys. Registering a schema
 * the subject already holds returns its existing id, so every replica of a service gets the same ids.
 * A registry that does not answer is an infrastructure error (the service exits and is restarted); one
 * that refuses the schema (incompatible with the subject's latest version) is a configuration error.
 */
export async function registerOutputSchemas<K extends string>(
  opts: SchemaRegistryOptions,
  outputs: Record<K, { topic: string; type: AvroType }>,
): Promise<Record<K, number>> {
  const registry = createSchemaRegistry(opts);
  const ids = {} as Record<K, number>;
  for (const [key, { topic, type }] of Object.entries(outputs) as [K, { topic: string; type: AvroType }][]) {
    const subject = valueSubject(topic);
    try {
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(type.schema()) },
        { subject },
      );
      ids[key] = id;
    } catch (err) {
      const status = registryErrorStatus(err);
      const refused = status === 409 || status === 422;
      throw new SmaeError(
        refused ? 'INVALID_CONFIG' : 'INFRA_UNAVAILABLE',
        `schema registry ${new URL(opts.url).host} ${refused ? 'refused' : 'could not register'} ` +
          `the schema of ${topic} under subject ${subject}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  return ids;
}
