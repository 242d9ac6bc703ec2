/**
 * How one version is stored in its Redis hash, and how it is read back and trusted.
 *
 * The manifest is stored as JSON, the weights as raw bytes (little-endian float32, exactly the
 * artifact's buffer) and the digest as hex. Reading re-verifies the digest over manifest and weights
 * (`verifyArtifact`) and checks that the manifest names this version and this pipeline, so a hash
 * that was edited, truncated, or copied from another version or pipeline is refused with
 * INTEGRITY_CHECK_FAILED.
 */
import { ModelError } from '../errors.js';
import { verifyArtifact, type ModelArtifact, type ModelManifest } from '../model/artifact.js';
import type { PublishedModel, VersionSummary } from './types.js';

/** Stored in each hash, so a future layout can be told apart. */
export const STORE_FORMAT = 'smae-registry/1';

export interface StoredFields {
  format: string;
  manifest: string;
  weights: Buffer;
  digest: string;
  publishedBy: string;
  reason: string;
  publishedAt: string;
}

/** Field/value pairs for HSET (the commit script adds `previous`). */
export function encodeVersion(
  artifact: ModelArtifact,
  meta: { publishedBy: string; reason: string; publishedAt: string },
): (string | Buffer)[] {
  return [
    'format',
    STORE_FORMAT,
    'manifest',
    JSON.stringify(artifact.manifest),
    'weights',
    Buffer.from(artifact.weights.buffer, artifact.weights.byteOffset, artifact.weights.byteLength),
    'digest',
    artifact.digest,
    'publishedBy',
    meta.publishedBy,
    'reason',
    meta.reason,
    'publishedAt',
    meta.publishedAt,
  ];
}

/** Pairs a flat [field, value, field, value, …] reply into a record. */
export function pairsToRecord(flat: readonly Buffer[]): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!.toString('utf8')] = flat[i + 1]!;
  return out;
}

function refused(version: number, pipeline: string, why: string, cause?: unknown): ModelError {
  return new ModelError(
    'INTEGRITY_CHECK_FAILED',
    `model version ${version} of pipeline "${pipeline}" refused: ${why}`,
    {
      details: { version, pipeline },
      cause,
    },
  );
}

function parseManifest(version: number, pipeline: string, text: string | undefined): ModelManifest {
  if (text === undefined) throw refused(version, pipeline, 'its manifest is missing');
  try {
    const manifest = JSON.parse(text) as unknown;
    if (!manifest || typeof manifest !== 'object') throw new Error('not an object');
    return manifest as ModelManifest;
  } catch (err) {
    throw refused(version, pipeline, 'its manifest is not valid JSON', err);
  }
}

/**
 * Turns a stored hash into a verified published model. Throws MODEL_NOT_FOUND for an empty hash and
 * INTEGRITY_CHECK_FAILED for anything that does not verify.
 */
export function decodeVersion(
  version: number,
  pipeline: string,
  hash: Record<string, Buffer>,
): PublishedModel {
  if (Object.keys(hash).length === 0) {
    throw new ModelError('MODEL_NOT_FOUND', `pipeline "${pipeline}" has no model version ${version}`, {
      details: { version, pipeline },
    });
  }
  const text = (k: string) => hash[k]?.toString('utf8');
  const format = text('format');
  if (format !== STORE_FORMAT) throw refused(version, pipeline, `unknown storage format ${String(format)}`);
  const manifest = parseManifest(version, pipeline, text('manifest'));
  const weights = hash['weights'];
  const digest = text('digest');
  if (!weights || !digest) throw refused(version, pipeline, 'its weights or digest are missing');
  const artifact: ModelArtifact = {
    manifest,
    weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
    digest,
  };
  try {
    verifyArtifact(artifact);
  } catch (err) {
    throw refused(version, pipeline, (err as Error).message, err);
  }
  if (manifest.version !== version) {
    throw refused(version, pipeline, `its manifest says version ${String(manifest.version)}`);
  }
  if (manifest.pipeline !== pipeline) {
    throw refused(version, pipeline, `its manifest names pipeline ${JSON.stringify(manifest.pipeline)}`);
  }
  return {
    version,
    artifact,
    publishedBy: text('publishedBy') ?? 'unknown',
    reason: text('reason') ?? '',
    publishedAt: text('publishedAt') ?? '',
    previous: Number(text('previous') ?? 0),
  };
}

/** A summary from stored fields without the weights (no verification possible, integrity 'unchecked'). */
export function summarize(
  version: number,
  currentVersion: number,
  fields: Partial<
    Record<'manifest' | 'digest' | 'publishedBy' | 'reason' | 'publishedAt' | 'previous', string>
  >,
): VersionSummary {
  let manifest: Partial<ModelManifest> | null = null;
  let problem: string | undefined;
  try {
    manifest = fields.manifest ? (JSON.parse(fields.manifest) as Partial<ModelManifest>) : null;
    if (!manifest) problem = 'manifest missing';
  } catch {
    problem = 'manifest is not valid JSON';
  }
  const digest = fields.digest ?? '';
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const summary: VersionSummary = {
    version,
    current: version === currentVersion,
    publishedBy: fields.publishedBy ?? 'unknown',
    reason: fields.reason ?? '',
    publishedAt: fields.publishedAt ?? '',
    parentVersion: num(manifest?.parentVersion),
    previous: Number(fields.previous ?? 0),
    digest,
    digestPrefix: digest.slice(0, 12),
    threshold: num(manifest?.threshold?.value),
    percentile: num(manifest?.threshold?.percentile),
    thresholdPolicy: policyKind(manifest?.threshold),
    trainingRows: num(manifest?.training?.rows),
    epochs: num(manifest?.training?.epochs),
    finalLoss: num(manifest?.training?.finalLoss),
    source: typeof manifest?.training?.source === 'string' ? manifest.training.source : null,
    backend: typeof manifest?.backend === 'string' ? manifest.backend : null,
    adaptation: Boolean(manifest?.adaptation),
    integrity: problem ? 'failed' : 'unchecked',
  };
  if (problem) summary.problem = problem;
  return summary;
}

/** The threshold policy's kind, as a summary shows it: `percentile` for manifests from before policies. */
function policyKind(threshold: Partial<ModelManifest['threshold']> | undefined): string | null {
  if (!threshold || typeof threshold !== 'object') return null;
  const kind = (threshold.policy as { kind?: unknown } | undefined)?.kind;
  if (typeof kind === 'string') return kind;
  return typeof threshold.percentile === 'number' ? 'percentile' : null;
}
