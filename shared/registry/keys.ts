/**
 * The registry's Redis key layout, derived from the pipeline's prefix (`smae:{name}:`, see
 * `shared/pipeline.ts`). The hash tag puts every key of one pipeline in one Redis Cluster slot, which
 * is what lets the commit script touch the version, the pointer and the history atomically.
 *
 * ```
 * smae:{name}:models:seq          STRING  last reserved version number (INCR)
 * smae:{name}:models:v:<n>        HASH    one immutable version: manifest (JSON), weights (bytes),
 *                                         digest, publishedBy, reason, publishedAt, previous
 * smae:{name}:models:current      STRING  the current version number; only ever moves forward
 * smae:{name}:models:history      ZSET    committed versions (score = member = version), bounded
 * smae:{name}:models:events       channel pub/sub announcements of a new current version
 * ```
 */
import { pipelineNames } from '../pipeline.js';

export interface RegistryKeys {
  /** The pipeline's Redis prefix, ending in ':'. */
  prefix: string;
  seq: string;
  current: string;
  history: string;
  /** Prefix of version hashes; the version number is appended. */
  versionPrefix: string;
  /** Pub/sub channel for announcements. */
  events: string;
  version(v: number): string;
}

export function registryKeys(pipeline: string): RegistryKeys {
  const prefix = pipelineNames(pipeline).redisPrefix;
  const versionPrefix = `${prefix}models:v:`;
  return {
    prefix,
    seq: `${prefix}models:seq`,
    current: `${prefix}models:current`,
    history: `${prefix}models:history`,
    versionPrefix,
    events: `${prefix}models:events`,
    version: (v: number) => `${versionPrefix}${v}`,
  };
}
