/**
 * Model signing for a test or benchmark run: the registry signs and verifies with the keys named in the
 * environment (`shared/registry/signing.ts`), so a run that has none gets a fresh key pair of its own,
 * written under .cache/test-keys/<pid> and removed when the process exits. Children inherit the variables.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';
import { writeSigningKeyPair } from '../../shared/registry/signing.js';

/** The variables to add to `env` (none when it already names keys); sets nothing itself. */
export function runSigningEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.SMAE_SIGNING_KEY_FILE || env.SMAE_SIGNING_KEY || env.SMAE_TRUSTED_KEYS) return {};
  const dir = join(REPO_ROOT, '.cache', 'test-keys', String(process.pid));
  const pair = writeSigningKeyPair(dir, 'run', { force: true });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { SMAE_SIGNING_KEY_FILE: pair.privateKeyFile, SMAE_TRUSTED_KEYS: pair.publicKeyFile };
}

/** Gives this process (and its children) a signing key pair unless the environment names one. */
export function ensureRunSigningKey(): void {
  Object.assign(process.env, runSigningEnv(process.env));
}
