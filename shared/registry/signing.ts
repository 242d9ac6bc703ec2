/**
 * Model signatures: who may publish a model every scorer will run.
 *
 * The digest (`shared/model/artifact.ts`) proves a version is intact; it does not prove who made it,
 * because anyone who can write to Redis can store a well-formed model with a matching digest. So the
 * publishers (trainer, adapter, rollback) sign each version with an Ed25519 private key (node:crypto),
 * and every reader (scorer, adapter, CLI) verifies the signature against a set of trusted public keys
 * before it uses the version. Several trusted keys at once is what makes rotation possible: trust the
 * new public key everywhere, switch the publishers to the new private key, then drop the old public key.
 *
 * What is signed: the canonical JSON of `{format, pipeline, version, digest, publishedBy, reason,
 * publishedAt}`. The digest covers the manifest (which names the version and pipeline) and the weights,
 * so the signature binds the whole content to its version number, pipeline and audit fields; a
 * signature copied to another version or pipeline does not verify.
 *
 * Stored beside the version in its Redis hash: `signature` (base64) and `keyId` (the first 16 hex
 * characters of the SHA-256 of the public key's DER encoding, printed by `smae keys generate`).
 *
 * Configuration (environment, read once by `modelTrustFromEnv`):
 *   SMAE_SIGNING_KEY_FILE        PEM (PKCS#8) Ed25519 private key, for publishers
 *   SMAE_SIGNING_KEY             the same PEM as a secret in the environment (instead of the file)
 *   SMAE_TRUSTED_KEYS            comma-separated PEM public key files or directories (every *.pub / *.pem)
 *   SMAE_ALLOW_UNSIGNED_MODELS   `true` for development only: unsigned publishing and reading allowed
 * A process's own signing key is trusted too (it can read back what it publishes).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, ModelError } from '../errors.js';
import { canonicalJson } from '../model/artifact.js';

export const SIGNATURE_FORMAT = 'smae-signature/1';

/** What a signature covers (see the module comment). */
export interface SignedFields {
  pipeline: string;
  version: number;
  digest: string;
  publishedBy: string;
  reason: string;
  publishedAt: string;
}

export interface ModelSignature {
  /** base64 Ed25519 signature. */
  signature: string;
  keyId: string;
}

export interface ModelSigner {
  readonly keyId: string;
  sign(fields: SignedFields): ModelSignature;
}

/** Who a process trusts, and whether it may sign. */
export interface ModelTrust {
  /** Present in publishers only. */
  signer?: ModelSigner;
  /** keyId → public key. */
  trusted: ReadonlyMap<string, KeyObject>;
  /** Development only: publish without a key, and accept unsigned versions. */
  allowUnsigned: boolean;
}

/** `keyId` of a public key: SHA-256 of its SPKI DER, first 16 hex characters. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

function payload(fields: SignedFields): Buffer {
  return Buffer.from(
    canonicalJson({
      format: SIGNATURE_FORMAT,
      pipeline: fields.pipeline,
      version: fields.version,
      digest: fields.digest,
      publishedBy: fields.publishedBy,
      reason: fields.reason,
      publishedAt: fields.publishedAt,
    }),
    'utf8',
  );
}

function assertEd25519(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`invalid ${what}`, [
      { path: what, message: `must be an Ed25519 key (got ${String(key.asymmetricKeyType)})` },
    ]);
  }
}

export function createSigner(privateKey: KeyObject): ModelSigner {
  assertEd25519(privateKey, 'signing key');
  const keyId = keyIdOf(createPublicKey(privateKey));
  return {
    keyId,
    sign: (fields) => ({
      signature: edSign(null, payload(fields), privateKey).toString('base64'),
      keyId,
    }),
  };
}

/** Why a version is refused, or null when its signature is good (or unsigned and that is allowed). */
export function signatureProblem(
  trust: ModelTrust,
  fields: SignedFields,
  sig: Partial<ModelSignature>,
): string | null {
  if (sig.signature === undefined || sig.signature === '') {
    return trust.allowUnsigned
      ? null
      : 'it is not signed, and unsigned models are refused (SMAE_ALLOW_UNSIGNED_MODELS=true allows them in development)';
  }
  const key = sig.keyId === undefined ? undefined : trust.trusted.get(sig.keyId);
  if (key === undefined) {
    return `it is signed by key ${String(sig.keyId)}, which is not trusted (SMAE_TRUSTED_KEYS)`;
  }
  let ok: boolean;
  try {
    ok = edVerify(null, payload(fields), key, Buffer.from(sig.signature, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? null : `its signature does not verify against trusted key ${sig.keyId}`;
}

/** Throws ModelError UNTRUSTED_MODEL naming the version and the reason. */
export function verifyModelSignature(
  trust: ModelTrust,
  fields: SignedFields,
  sig: Partial<ModelSignature>,
): void {
  const problem = signatureProblem(trust, fields, sig);
  if (problem === null) return;
  throw new ModelError(
    'UNTRUSTED_MODEL',
    `model version ${fields.version} of pipeline "${fields.pipeline}" refused: ${problem}`,
    { details: { version: fields.version, pipeline: fields.pipeline, keyId: sig.keyId ?? null } },
  );
}

/** The signature to store with a new version; throws when there is no key and unsigned is not allowed. */
export function signForPublish(trust: ModelTrust, fields: SignedFields): ModelSignature | null {
  assertCanPublish(trust);
  return trust.signer?.sign(fields) ?? null;
}

/** Throws a ConfigError naming the settings when this process may not publish (no key, unsigned not allowed). */
export function assertCanPublish(trust: ModelTrust): void {
  if (trust.signer !== undefined || trust.allowUnsigned) return;
  throw new ConfigError('cannot publish a model: no signing key', [
    {
      path: 'SMAE_SIGNING_KEY_FILE',
      message:
        'publishers sign every model; give an Ed25519 private key (SMAE_SIGNING_KEY_FILE or SMAE_SIGNING_KEY; `smae keys generate` makes one), or SMAE_ALLOW_UNSIGNED_MODELS=true in development',
    },
  ]);
}

// --- keys on disk and in the environment ------------------------------------------------------------

export interface GeneratedKeyPair {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateSigningKeyPair(): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Writes `<dir>/<name>.key` (private, mode 0600) and `<dir>/<name>.pub`. Refuses to overwrite either
 * unless `force`.
 */
export function writeSigningKeyPair(
  dir: string,
  name: string,
  opts: { force?: boolean } = {},
): GeneratedKeyPair & { privateKeyFile: string; publicKeyFile: string } {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new ConfigError('invalid key name', [
      { path: 'name', message: 'letters, digits, dot, dash, underscore' },
    ]);
  }
  mkdirSync(dir, { recursive: true });
  const privateKeyFile = join(dir, `${name}.key`);
  const publicKeyFile = join(dir, `${name}.pub`);
  for (const f of [privateKeyFile, publicKeyFile]) {
    if (existsSync(f) && opts.force !== true) {
      throw new ConfigError('refusing to overwrite a key', [
        { path: f, message: 'exists (use --force to replace it)' },
      ]);
    }
  }
  const pair = generateSigningKeyPair();
  writeFileSync(privateKeyFile, pair.privateKeyPem, { mode: 0o600 });
  chmodSync(privateKeyFile, 0o600);
  writeFileSync(publicKeyFile, pair.publicKeyPem);
  return { ...pair, privateKeyFile, publicKeyFile };
}

function readPublicKeys(path: string): KeyObject[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.pub') || f.endsWith('.pem'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  return files.map((f) => {
    const key = createPublicKey(readFileSync(f, 'utf8'));
    assertEd25519(key, `trusted key ${f}`);
    return key;
  });
}

const truthy = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
  SMAE_SIGNING_KEY_FILE: z.string().min(1).optional(),
  SMAE_SIGNING_KEY: z.string().min(1).optional(),
  SMAE_TRUSTED_KEYS: z.string().min(1).optional(),
  SMAE_ALLOW_UNSIGNED_MODELS: truthy.optional(),
});

/** Builds a trust from keys in memory (tests, the demo). */
export function modelTrust(opts: {
  signingKeyPem?: string;
  trustedPems?: readonly string[];
  allowUnsigned?: boolean;
}): ModelTrust {
  const trusted = new Map<string, KeyObject>();
  for (const pem of opts.trustedPems ?? []) {
    const key = createPublicKey(pem);
    assertEd25519(key, 'trusted key');
    trusted.set(keyIdOf(key), key);
  }
  let signer: ModelSigner | undefined;
  if (opts.signingKeyPem !== undefined) {
    const priv = createPrivateKey(opts.signingKeyPem);
    signer = createSigner(priv);
    trusted.set(signer.keyId, createPublicKey(priv));
  }
  return { ...(signer ? { signer } : {}), trusted, allowUnsigned: opts.allowUnsigned ?? false };
}

/**
 * The trust of a process, from its environment (see the module comment). Every problem is reported at
 * once as a ConfigError naming the variable; the key material itself never appears in a message.
 */
export function modelTrustFromEnv(env: NodeJS.ProcessEnv): ModelTrust {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      'invalid model-signing settings',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: 'must be true or false' })),
    );
  }
  const e = parsed.data;
  const issues: { path: string; message: string }[] = [];
  let signingKeyPem: string | undefined;
  if (e.SMAE_SIGNING_KEY_FILE !== undefined && e.SMAE_SIGNING_KEY !== undefined) {
    issues.push({
      path: 'SMAE_SIGNING_KEY',
      message: 'give either SMAE_SIGNING_KEY or SMAE_SIGNING_KEY_FILE',
    });
  } else if (e.SMAE_SIGNING_KEY_FILE !== undefined) {
    try {
      signingKeyPem = readFileSync(e.SMAE_SIGNING_KEY_FILE, 'utf8');
    } catch (err) {
      issues.push({
        path: 'SMAE_SIGNING_KEY_FILE',
        message: `cannot read ${e.SMAE_SIGNING_KEY_FILE}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      });
    }
  } else {
    signingKeyPem = e.SMAE_SIGNING_KEY;
  }
  const trustedPems: string[] = [];
  for (const path of (e.SMAE_TRUSTED_KEYS ?? '').split(',').map((p) => p.trim())) {
    if (path === '') continue;
    try {
      for (const key of readPublicKeys(path))
        trustedPems.push(key.export({ type: 'spki', format: 'pem' }).toString());
    } catch (err) {
      issues.push({
        path: 'SMAE_TRUSTED_KEYS',
        message: `${path}: ${err instanceof ConfigError ? (err.issues[0]?.message ?? err.message) : 'not a readable PEM public key'}`,
      });
    }
  }
  let trust: ModelTrust | undefined;
  if (issues.length === 0) {
    try {
      trust = modelTrust({
        ...(signingKeyPem !== undefined ? { signingKeyPem } : {}),
        trustedPems,
        allowUnsigned: e.SMAE_ALLOW_UNSIGNED_MODELS ?? false,
      });
    } catch {
      issues.push({
        path: e.SMAE_SIGNING_KEY_FILE !== undefined ? 'SMAE_SIGNING_KEY_FILE' : 'SMAE_SIGNING_KEY',
        message: 'not a PEM Ed25519 private key',
      });
    }
  }
  if (issues.length > 0 || trust === undefined)
    throw new ConfigError('invalid model-signing settings', issues);
  return trust;
}

let processTrust: ModelTrust | undefined;

/** `modelTrustFromEnv(process.env)`, read once per process (the registry's default). */
export function processModelTrust(): ModelTrust {
  processTrust ??= modelTrustFromEnv(process.env);
  return processTrust;
}

/** A one-line description for start-up logs (key ids only, never key material). */
export function describeTrust(trust: ModelTrust): Record<string, unknown> {
  return {
    signingKey: trust.signer?.keyId ?? null,
    trustedKeys: [...trust.trusted.keys()],
    allowUnsigned: trust.allowUnsigned,
  };
}
