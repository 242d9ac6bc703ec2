/** The model registry: versioned, atomic, verifiable model publishing in Redis (see `registry.ts`). */
export { ModelRegistry, REGISTRY_DEFAULTS, type ModelEvent, type ModelRegistryOptions } from './registry.js';
export { registryKeys, type RegistryKeys } from './keys.js';
export { STORE_FORMAT } from './codec.js';
export type {
  Integrity,
  PublishMeta,
  PublishResult,
  PublishedModel,
  Publisher,
  VersionSummary,
  WatchHandle,
  WatchOptions,
  WatchStats,
} from './types.js';
export {
  createSigner,
  describeTrust,
  generateSigningKeyPair,
  keyIdOf,
  modelTrust,
  modelTrustFromEnv,
  processModelTrust,
  writeSigningKeyPair,
  type ModelSigner,
  type ModelTrust,
} from './signing.js';
