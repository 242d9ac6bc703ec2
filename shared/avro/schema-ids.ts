/**
 * Ways to resolve a Confluent schema id to the writer schema (`SchemaIdResolver`).
 *
 * - `staticSchemaIds`: an in-memory map, for tests, the demo and deployments with a fixed set of
 *   producer schemas;
 * - `schemaIdDirectory`: a directory of `<id>.avsc` files, read on first use of each id (a deployment
 *   can mount a ConfigMap with the schemas its producers use);
 * - `schemaRegistryIds`: a Confluent-compatible schema registry (Confluent, Apicurio's ccompat API, …)
 *   through `@kafkajs/confluent-schema-registry`.
 *
 * The decoder caches one resolver per id, so these are called once per id (and again after
 * `unknownIdRetryMs` for ids they did not know).
 */
import { readFile } from 'node:fs/promises';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { join } from 'node:path';
import { SmaeError } from '../errors.js';
import { parseSchema, type AvroSchema, type AvroType } from './schemas.js';
import type { SchemaIdResolver } from './decoder.js';

/** A fixed map of schema ids to schemas (avsc Types, schema objects or JSON text). */
export function staticSchemaIds(
  entries:
    ReadonlyMap<number, AvroType | AvroSchema | string> | Record<number, AvroType | AvroSchema | string>,
): SchemaIdResolver {
  const map = new Map<number, AvroType>();
  const iterable = entries instanceof Map ? entries.entries() : Object.entries(entries);
  for (const [k, v] of iterable) {
    const id = Number(k);
    map.set(id, isType(v) ? v : parseSchema(v as AvroSchema | string, `schema id ${id}`));
  }
  return (id) => map.get(id);
}

/** Reads `<dir>/<id>.avsc` on demand; a missing file means the id is unknown. */
export function schemaIdDirectory(dir: string): SchemaIdResolver {
  return async (id) => {
    if (!Number.isInteger(id) || id < 0) return undefined;
    const path = join(dir, `${id}.avsc`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SmaeError('INFRA_UNAVAILABLE', `cannot read schema file ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return parseSchema(text, path);
  };
}

export interface SchemaRegistryOptions {
  /**
   * The Confluent-compatible API's base URL, e.g. `http://schema-registry:8081` (Confluent) or
   * `http://registry:8080/apis/ccompat/v7` (Apicurio). Basic-auth credentials may be given in the URL
   * (`http://user:password@host:8081`).
   */
  url: string;
  /** Retries of one request (with exponential backoff) before the lookup fails as retriable; default 2. */
  retries?: number;
}

/**
 * A client of a Confluent-compatible schema registry's REST API: `@kafkajs/confluent-schema-registry`
 * (transport, retries, its own per-id cache), configured from a URL. One home for the project's registry
 * clients: the input lookup below and the output subjects (`confluent-output.ts`) both build it here.
 */
export function createSchemaRegistry(opts: SchemaRegistryOptions): SchemaRegistry {
  const u = new URL(opts.url);
  const auth =
    u.username !== ''
      ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
      : undefined;
  u.username = '';
  u.password = '';
  return new SchemaRegistry({
    host: u.href.replace(/\/+$/, ''),
    clientId: 'sparse-meta-ae',
    retry: { retries: opts.retries ?? 2, initialRetryTimeInSecs: 0.2, maxRetryTimeInSecs: 2 },
    ...(auth !== undefined ? { auth } : {}),
  });
}

/** The HTTP status of a registry client's error (the library reports network failures as 400). */
export function registryErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Writer schemas from a Confluent-compatible schema registry (`GET /schemas/ids/{id}` through the client
 * library). Only the lookup goes through the library: records are decoded by the project's decoder, which
 * builds and caches one resolver per id from the schema returned here. HTTP 404 means an unknown id
 * (the record is dead-lettered); every other failure (registry down, 5xx, timeouts) is a retriable
 * infrastructure error, so the batch is retried rather than its records dead-lettered. A schema that is
 * not Avro (JSON Schema, Protobuf) is unknown to an Avro pipeline.
 */
export function schemaRegistryIds(
  opts: SchemaRegistryOptions | { registry: SchemaRegistry; url: string },
): SchemaIdResolver {
  const registry = 'registry' in opts ? opts.registry : createSchemaRegistry(opts);
  const where = new URL(opts.url).host;
  return async (id) => {
    let schema: unknown;
    try {
      schema = await registry.getSchema(id);
    } catch (err) {
      if (registryErrorStatus(err) === 404) return undefined;
      throw new SmaeError(
        'INFRA_UNAVAILABLE',
        `schema registry ${where} failed to return schema id ${id}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return isType(schema) ? schema : undefined;
  };
}

function isType(v: unknown): v is AvroType {
  return typeof v === 'object' && v !== null && typeof (v as AvroType).fromBuffer === 'function';
}

/**
 * The one place a schema-id source is chosen from settings: a schema registry when its URL is given,
 * else a directory of `<id>.avsc` files, else none (raw Avro, or Confluent framing with the reader
 * schema as the only writer schema).
 */
export function schemaIdSource(settings: {
  schemaRegistryUrl?: string | undefined;
  schemaIdsDir?: string | undefined;
}): SchemaIdResolver | undefined {
  if (settings.schemaRegistryUrl) return schemaRegistryIds({ url: settings.schemaRegistryUrl });
  if (settings.schemaIdsDir) return schemaIdDirectory(settings.schemaIdsDir);
  return undefined;
}
