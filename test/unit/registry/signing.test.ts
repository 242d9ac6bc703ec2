/** Model signatures: signing, verification, rotation, tampering, and the settings that configure them. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateSigningKeyPair,
  modelTrust,
  modelTrustFromEnv,
  signForPublish,
  signatureProblem,
  verifyModelSignature,
  writeSigningKeyPair,
  type SignedFields,
} from '../../../shared/registry/signing.js';

const fields: SignedFields = {
  pipeline: 'p',
  version: 7,
  digest: 'ab'.repeat(32),
  publishedBy: 'trainer',
  reason: 'scheduled',
  publishedAt: '2026-01-01T00:00:00.000Z',
};

describe('model signatures', () => {
  const k1 = generateSigningKeyPair();
  const k2 = generateSigningKeyPair();
  const publisher1 = modelTrust({ signingKeyPem: k1.privateKeyPem });
  const publisher2 = modelTrust({ signingKeyPem: k2.privateKeyPem });
  const reader = modelTrust({ trustedPems: [k1.publicKeyPem] });

  test('a version signed by a trusted key verifies and names the key', () => {
    const sig = signForPublish(publisher1, fields)!;
    assert.equal(sig.keyId, k1.keyId);
    assert.equal(signatureProblem(reader, fields, sig), null);
  });

  test('unsigned, untrusted-key and tampered versions are refused with UNTRUSTED_MODEL naming version and reason', () => {
    assert.throws(() => verifyModelSignature(reader, fields, {}), {
      code: 'UNTRUSTED_MODEL',
      message: /version 7 of pipeline "p" refused: it is not signed/,
    });
    const other = signForPublish(publisher2, fields)!;
    assert.throws(() => verifyModelSignature(reader, fields, other), {
      code: 'UNTRUSTED_MODEL',
      message: new RegExp(`signed by key ${k2.keyId}, which is not trusted`),
    });
    const good = signForPublish(publisher1, fields)!;
    const bytes = Buffer.from(good.signature, 'base64');
    bytes[5] = bytes[5]! ^ 0x01;
    assert.throws(
      () => verifyModelSignature(reader, fields, { ...good, signature: bytes.toString('base64') }),
      {
        code: 'UNTRUSTED_MODEL',
        message: /signature does not verify/,
      },
    );
    // The signature binds the version number, pipeline, digest and audit fields.
    for (const change of [{ version: 8 }, { pipeline: 'q' }, { digest: 'cd'.repeat(32) }, { reason: 'x' }]) {
      assert.notEqual(signatureProblem(reader, { ...fields, ...change }, good), null, JSON.stringify(change));
    }
  });

  test('rotation: a reader trusting both keys accepts both; after the old key is dropped only the new one', () => {
    const both = modelTrust({ trustedPems: [k1.publicKeyPem, k2.publicKeyPem] });
    const newOnly = modelTrust({ trustedPems: [k2.publicKeyPem] });
    const old = signForPublish(publisher1, fields)!;
    const fresh = signForPublish(publisher2, { ...fields, version: 8 })!;
    assert.equal(signatureProblem(both, fields, old), null);
    assert.equal(signatureProblem(both, { ...fields, version: 8 }, fresh), null);
    assert.equal(signatureProblem(newOnly, { ...fields, version: 8 }, fresh), null);
    assert.match(signatureProblem(newOnly, fields, old) ?? '', /not trusted/);
  });

  test('without a key a publisher is refused, unless unsigned models are explicitly allowed', () => {
    assert.throws(() => signForPublish(reader, fields), { code: 'INVALID_CONFIG' });
    const dev = modelTrust({ allowUnsigned: true });
    assert.equal(signForPublish(dev, fields), null);
    assert.equal(signatureProblem(dev, fields, {}), null);
  });
});

describe('modelTrustFromEnv', () => {
  test('reads a private key file, public key files and directories; the signer trusts its own key', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'smae-keys-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const a = writeSigningKeyPair(dir, 'a');
    const b = writeSigningKeyPair(join(dir, 'more'), 'b');
    assert.equal(statSync(a.privateKeyFile).mode & 0o777, 0o600);
    assert.throws(() => writeSigningKeyPair(dir, 'a'), { code: 'INVALID_CONFIG' });
    const trust = modelTrustFromEnv({
      SMAE_SIGNING_KEY_FILE: a.privateKeyFile,
      SMAE_TRUSTED_KEYS: join(dir, 'more'),
    });
    assert.equal(trust.signer?.keyId, a.keyId);
    assert.deepEqual([...trust.trusted.keys()].sort(), [a.keyId, b.keyId].sort());
    assert.equal(trust.allowUnsigned, false);
    const fromSecret = modelTrustFromEnv({ SMAE_SIGNING_KEY: readFileSync(b.privateKeyFile, 'utf8') });
    assert.equal(fromSecret.signer?.keyId, b.keyId);
  });

  test('bad settings name the variable and never echo key material', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'smae-keys-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const secret = 'not-a-key-SECRET-MATERIAL';
    const notPem = join(dir, 'x.pub');
    writeFileSync(notPem, secret);
    let message = '';
    try {
      modelTrustFromEnv({
        SMAE_SIGNING_KEY: secret,
        SMAE_TRUSTED_KEYS: `${notPem},${join(dir, 'missing.pub')}`,
        SMAE_ALLOW_UNSIGNED_MODELS: 'true',
      });
    } catch (err) {
      message = JSON.stringify(err) + String((err as Error).message);
    }
    assert.match(message, /SMAE_TRUSTED_KEYS/);
    assert.doesNotMatch(message, /SECRET-MATERIAL/);
    assert.throws(
      () => modelTrustFromEnv({ SMAE_SIGNING_KEY: secret }),
      (err: Error) => {
        assert.match(JSON.stringify(err), /SMAE_SIGNING_KEY/);
        assert.doesNotMatch(JSON.stringify(err) + err.message, /SECRET-MATERIAL/);
        return true;
      },
    );
    assert.equal(modelTrustFromEnv({ SMAE_ALLOW_UNSIGNED_MODELS: 'true' }).allowUnsigned, true);
    assert.throws(() => modelTrustFromEnv({ SMAE_ALLOW_UNSIGNED_MODELS: 'maybe' }), {
      code: 'INVALID_CONFIG',
    });
  });
});
