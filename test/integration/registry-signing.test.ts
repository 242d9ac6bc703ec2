/**
 * Signed models against the real Redis: a writer with Redis access but no trusted key cannot get a
 * model in front of a reader, key rotation works, and a tampered signature is refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ModelRegistry,
  generateSigningKeyPair,
  modelTrust,
  type PublishedModel,
} from '../../shared/registry/index.js';
import { tinyArtifact } from '../unit/registry/fixtures.js';
import { redisClient, uniqueRedisPipeline } from '../helpers/infra.js';

const trainerKey = generateSigningKeyPair();
const publisher = modelTrust({ signingKeyPem: trainerKey.privateKeyPem });
const reader = modelTrust({ trustedPems: [trainerKey.publicKeyPem] });

describe('signed models in the registry', () => {
  test('a writer with Redis access but no trusted key publishes a model with a correct digest: refused', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-sig');
    const trainer = new ModelRegistry({ redis: redisClient(t), pipeline: name, trust: publisher });
    const scorer = new ModelRegistry({ redis: redisClient(t), pipeline: name, trust: reader });
    await trainer.publish(tinyArtifact(1), { publishedBy: 'trainer', reason: 'first' });

    // A process without a key and without the development switch cannot publish at all…
    const keyless = new ModelRegistry({ redis: redisClient(t), pipeline: name, trust: modelTrust({}) });
    await assert.rejects(keyless.publish(tinyArtifact(2), { publishedBy: 'x', reason: 'y' }), {
      code: 'INVALID_CONFIG',
      message: /no signing key/,
    });
    assert.equal(await scorer.currentVersion(), 1, 'nothing reserved or written');

    const delivered: PublishedModel[] = [];
    const rejected: { version: number; code: string; message: string }[] = [];
    const watch = scorer.watch((m) => void delivered.push(m), {
      pollMs: 100,
      onRejected: (version, err) =>
        rejected.push({ version, code: (err as Error & { code: string }).code, message: err.message }),
    });
    t.after(() => watch.close());
    await watch.check();
    assert.deepEqual(
      delivered.map((m) => [m.version, m.signedBy]),
      [[1, trainerKey.keyId]],
    );

    // …but anyone with Redis can write what the registry writes: here unsigned (the writer allows
    // itself unsigned models), and signed with a key of its own. Both have a correct digest.
    const attacker = new ModelRegistry({
      redis: redisClient(t),
      pipeline: name,
      trust: modelTrust({ allowUnsigned: true }),
    });
    const forged = await attacker.publish(tinyArtifact(3, { threshold: 1e9 }), {
      publishedBy: 'trainer',
      reason: 'switch detection off',
    });
    assert.equal(forged.version, 2);
    assert.equal(forged.signedBy, null);
    await watch.check();
    await assert.rejects(scorer.get(2), {
      code: 'UNTRUSTED_MODEL',
      message: /version 2 of pipeline .* refused: it is not signed/,
    });
    const ownKey = generateSigningKeyPair();
    const selfSigned = new ModelRegistry({
      redis: redisClient(t),
      pipeline: name,
      trust: modelTrust({ signingKeyPem: ownKey.privateKeyPem }),
    });
    await selfSigned.publish(tinyArtifact(4, { threshold: 1e9 }), { publishedBy: 'trainer', reason: 'x' });
    await watch.check();
    await assert.rejects(scorer.current(), {
      code: 'UNTRUSTED_MODEL',
      message: new RegExp(`version 3 .* signed by key ${ownKey.keyId}, which is not trusted`),
    });

    // The reader kept version 1 and refused both, each once, naming version and reason.
    assert.deepEqual(
      delivered.map((m) => m.version),
      [1],
    );
    assert.equal(watch.stats.lastDelivered, 1);
    assert.deepEqual(
      rejected.map((r) => [r.version, r.code]),
      [
        [2, 'UNTRUSTED_MODEL'],
        [3, 'UNTRUSTED_MODEL'],
      ],
    );
    const listed = await scorer.list({ verify: true });
    assert.deepEqual(
      listed.map((s) => [s.version, s.integrity]),
      [
        [3, 'failed'],
        [2, 'failed'],
        [1, 'ok'],
      ],
    );

    // A good version from the trusted trainer is delivered again.
    await trainer.publish(tinyArtifact(5), { publishedBy: 'trainer', reason: 'next' });
    await watch.check();
    assert.deepEqual(
      delivered.map((m) => m.version),
      [1, 4],
    );
  });

  test('key rotation: trust old and new, switch the publisher, drop the old key', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-sig');
    const next = generateSigningKeyPair();
    const oldTrainer = new ModelRegistry({ redis: redisClient(t), pipeline: name, trust: publisher });
    await oldTrainer.publish(tinyArtifact(1), { publishedBy: 'trainer', reason: 'old key' });

    const both = modelTrust({ trustedPems: [trainerKey.publicKeyPem, next.publicKeyPem] });
    const readerBoth = new ModelRegistry({ redis: redisClient(t), pipeline: name, trust: both });
    const newTrainer = new ModelRegistry({
      redis: redisClient(t),
      pipeline: name,
      trust: modelTrust({ signingKeyPem: next.privateKeyPem, trustedPems: [trainerKey.publicKeyPem] }),
    });
    const v2 = await newTrainer.publish(tinyArtifact(2), { publishedBy: 'trainer', reason: 'new key' });
    assert.equal(v2.signedBy, next.keyId);
    assert.equal((await readerBoth.get(1)).signedBy, trainerKey.keyId);
    assert.equal((await readerBoth.current())?.signedBy, next.keyId);
    // A reader that has not been given the new key yet keeps refusing it (rotation order matters).
    await assert.rejects(new ModelRegistry({ redis: redisClient(t), pipeline: name, trust: reader }).get(2), {
      code: 'UNTRUSTED_MODEL',
    });
    // After the old key is dropped, versions it signed are refused and the new ones are read.
    const newOnly = new ModelRegistry({
      redis: redisClient(t),
      pipeline: name,
      trust: modelTrust({ trustedPems: [next.publicKeyPem] }),
    });
    assert.equal((await newOnly.get(2)).version, 2);
    await assert.rejects(newOnly.get(1), { code: 'UNTRUSTED_MODEL', message: /not trusted/ });
  });

  test('a tampered signature, or a signature moved to other audit fields, is refused', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-sig');
    const redis = redisClient(t);
    const trainer = new ModelRegistry({ redis, pipeline: name, trust: publisher });
    const scorer = new ModelRegistry({ redis: redisClient(t), pipeline: name, trust: reader });
    const v1 = await trainer.publish(tinyArtifact(1), { publishedBy: 'trainer', reason: 'ok' });
    const key = trainer.keys.version(v1.version);
    const original = await redis.hget(key, 'signature');
    assert.ok(original);
    const bytes = Buffer.from(original, 'base64');
    bytes[0] = bytes[0]! ^ 0x80;
    await redis.hset(key, 'signature', bytes.toString('base64'));
    await assert.rejects(scorer.get(v1.version), {
      code: 'UNTRUSTED_MODEL',
      message: /signature does not verify/,
    });
    await redis.hset(key, 'signature', original, 'reason', 'edited afterwards');
    await assert.rejects(scorer.get(v1.version), { code: 'UNTRUSTED_MODEL' });
    await redis.hset(key, 'reason', 'ok');
    assert.equal((await scorer.get(v1.version)).version, v1.version);
  });
});
