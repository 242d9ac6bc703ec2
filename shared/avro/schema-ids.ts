/**
 * Ways to resolve a Confluent schema id to the writer schema (`SchemaIdResolver`).
 *
 * - `staticSchemaIds`: an in-memory map, for tests, the demo and deployments with a fixed set of
 *   producer schemas;
 * - `schemaIdDirectory`: a directory of `<id>.avsc` files, read on first use of each id (a deployment
 *   can mount a ConfigMap with the schemas its producers use);
 * - `schemaRegistryIds`: a Confluent-compatible schema registry over HTTP (`GET /schemas/ids/{id}`).
 *
 * The decoder caches one resolver per id, so these are called once per id (and again after
 * `unknownIdRetryMs` for ids they did not know).
 */
import { readFile } from 'node:fs/promises';
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
  /** Base URL, e.g. `http://schema-registry:8081`. */
  url: string;
  /** Extra request headers (authentication). */
  headers?: Record<string, string>;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * A Confluent-compatible schema registry. 404 means unknown id; other failures are retriable
 * infrastructure errors (the batch is retried rather than its records dead-lettered).
 */
export function schemaRegistryIds(opts: SchemaRegistryOptions): SchemaIdResolver {
  const base = opts.url.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;
  return async (id) => {
    const url = `${base}/schemas/ids/${id}`;
    let res: Response;
    try {
      res = await doFetch(url, {
        headers: { accept: 'application/vnd.schemaregistry.v1+json, application/json', ...opts.headers },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
      });
    } catch (err) {
      throw new SmaeError(
        'INFRA_UNAVAILABLE',
        `schema registry ${base} did not answer: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (res.status === 404) return undefined;
    if (!res.ok) {
      throw new SmaeError('INFRA_UNAVAILABLE', `schema registry ${url} answered HTTP ${res.status}`);
    }
    const body = (await res.json()) as { schema?: string; schemaType?: string };
    if (body.schemaType && body.schemaType !== 'AVRO') return undefined;
    if (typeof body.schema !== 'string') {
      throw new SmaeError('INFRA_UNAVAILABLE', `schema registry ${url} returned no schema`);
    }
    return parseSchema(body.schema, `schema id ${id}`);
  };
}

function isType(v: unknown): v is AvroType {
  return typeof v === 'object' && v !== null && typeof (v as AvroType).fromBuffer === 'function';
}
