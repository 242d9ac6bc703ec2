/**
 * The registry against a real Redis (REDIS_URL, default redis://127.0.0.1:6379). Every test uses its
 * own pipeline name and deletes its keys afterwards.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ModelRegistry, registryKeys, type PublishedModel } from '../../shared/registry/index.js';
import { encodeVersion } from '../../shared/registry/codec.js';
import { processModelTrust, signForPublish } from '../../shared/registry/signing.js';
import { COMMIT, RESERVE } from '../../shared/registry/scripts.js';
import { sealArtifact } from '../../shared/model/artifact.js';
import { tinyArtifact } from '../unit/registry/fixtures.js';
import { redisClient, uniqueRedisPipeline } from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * Commits a version the way the registry does but on a channel nobody listens to: a "lost" announcement.
 * With `corrupt`, the stored weights have one flipped byte: a version that went bad at rest.
 */
async function commitQuietly(redis: Redis, name: string, seed: number, opts: { corrupt?: boolean } = {}) {
  const keys = registryKeys(name);
  const [, v] = (await RESERVE.run(redis, [keys.seq, keys.current, keys.history], [''])) as [string, number];
  const base = tinyArtifact(seed);
  const artifact = sealArtifact({ ...base.manifest, version: v, pipeline: name }, base.weights);
  if (opts.corrupt) {
    const w = Uint8Array.from(artifact.weights);
    w[0] = w[0]! ^ 0x40;
    artifact.weights = w;
  }
  const meta = { publishedBy: 'test', reason: 'quiet', publishedAt: new Date().toISOString() };
  const signature = signForPublish(processModelTrust(), {
    ...meta,
    pipeline: name,
    version: v,
    digest: artifact.digest,
  });
  const fields = encodeVersion(artifact, meta, signature);
  await COMMIT.run(
    redis,
    [keys.version(v), keys.current, keys.history],
    [v, '', 50, keys.versionPrefix, `${keys.events}:nobody`, '{}', ...fields],
  );
  return v;
}

describe('model registry (Redis)', () => {
  test('publish sets version and pipeline, re-seals, and reads back verified', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-reg');
    const reg = new ModelRegistry({ redis: redisClient(t), pipeline: name });
    assert.equal(await reg.current(), null);
    assert.equal(await reg.currentVersion(), 0);
    const input = tinyArtifact(1);
    const p1 = await reg.publish(input, { publishedBy: 'trainer', reason: 'first' });
    assert.equal(p1.version, 1);
    assert.equal(p1.promoted, true);
    assert.equal(p1.previous, 0);
    assert.notEqual(p1.artifact.digest, input.digest, 'the digest covers the version and pipeline');
    const cur = await reg.current();
    assert.ok(cur);
    assert.equal(cur.version, 1);
    assert.equal(cur.artifact.manifest.version, 1);
    assert.equal(cur.artifact.manifest.pipeline, name);
    assert.equal(cur.artifact.digest, p1.artifact.digest);
    assert.ok(sameBytes(cur.artifact.weights, input.weights));
    const p2 = await reg.publish(tinyArtifact(2), { publishedBy: 'adapter', reason: 'second' });
    assert.equal(p2.version, 2);
    assert.equal(p2.previous, 1);
    assert.equal((await reg.get(1)).reason, 'first');
    const list = await reg.list({ verify: true });
    assert.deepEqual(
      list.map((s) => [s.version, s.current, s.publishedBy, s.integrity]),
      [
        [2, true, 'adapter', 'ok'],
        [1, false, 'trainer', 'ok'],
      ],
    );
    await assert.rejects(reg.get(3), { code: 'MODEL_NOT_FOUND' });
  });

  test('publish refuses an artifact that does not verify', async (t) => {
    const reg = new ModelRegistry({ redis: redisClient(t), pipeline: uniqueRedisPipeline(t, 'test-reg') });
    const bad = tinyArtifact(1);
    bad.manifest.threshold.value = 42;
    await assert.rejects(reg.publish(bad, { publishedBy: 'trainer', reason: 'x' }), {
      code: 'INTEGRITY_CHECK_FAILED',
    });
    assert.equal(await reg.currentVersion(), 0);
  });

  test('10 concurrent publishers: versions 1..10, each complete and verifiable, pointer at the max', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-reg');
    // Five connections, so the publishers' reserve/commit round trips really interleave.
    const regs = Array.from(
      { length: 5 },
      () => new ModelRegistry({ redis: redisClient(t), pipeline: name }),
    );
    const inputs = Array.from({ length: 10 }, (_, i) => tinyArtifact(i + 1));
    const results = await Promise.all(
      inputs.map((a, i) => regs[i % regs.length]!.publish(a, { publishedBy: 'trainer', reason: `p${i}` })),
    );
    assert.deepEqual(
      results.map((r) => r.version).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    const reader = regs[0]!;
    for (const r of results) {
      const stored = await reader.get(r.version);
      const i = Number(r.reason.slice(1));
      assert.ok(
        sameBytes(stored.artifact.weights, inputs[i]!.weights),
        `version ${r.version} holds publisher ${i}'s weights`,
      );
      assert.equal(stored.artifact.digest, r.artifact.digest);
    }
    assert.equal(await reader.currentVersion(), 10);
    assert.equal((await reader.current())?.version, 10);
    assert.equal((await reader.list({ verify: true })).filter((s) => s.integrity === 'ok').length, 10);
  });

  test('expectedParent: of concurrent publishers expecting the same parent exactly one wins', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-reg');
    const regs = Array.from(
      { length: 4 },
      () => new ModelRegistry({ redis: redisClient(t), pipeline: name }),
    );
    await regs[0]!.publish(tinyArtifact(1), { publishedBy: 'trainer', reason: 'base' });
    const outcomes = await Promise.allSettled(
      regs.flatMap((reg, i) =>
        [0, 1].map((j) =>
          reg.publish(tinyArtifact(10 + i * 2 + j, { parentVersion: 1 }), {
            publishedBy: 'adapter',
            reason: `a${i}${j}`,
            expectedParent: 1,
          }),
        ),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 7);
    for (const l of lost) {
      assert.equal(l.reason.code, 'PUBLISH_CONFLICT');
      assert.equal(l.reason.retriable, true);
    }
    const list = await regs[0]!.list();
    assert.equal(list.length, 2, 'refused publishes write nothing');
    assert.equal(list[0]!.current, true);
    assert.equal(list[0]!.parentVersion, 1);
    // null = "only if nothing is published yet".
    await assert.rejects(
      regs[0]!.publish(tinyArtifact(3), { publishedBy: 'trainer', reason: 'x', expectedParent: null }),
      { code: 'PUBLISH_CONFLICT' },
    );
  });

  test('a reader polling during publication always sees a complete, verifiable version', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-reg');
    const writer = new ModelRegistry({ redis: redisClient(t), pipeline: name });
    const reader = new ModelRegistry({ redis: redisClient(t), pipeline: name });
    await writer.publish(tinyArtifact(1), { publishedBy: 'trainer', reason: 'v1' });
    const expected = new Map<number, Uint8Array>();
    let done = false;
    let reads = 0;
    const seen: number[] = [];
    const readLoop = (async () => {
      while (!done) {
        const m = await reader.current(); // throws if it ever sees a torn or unverifiable version
        assert.ok(m);
        seen.push(m.version);
        reads += 1;
      }
    })();
    const writes = (async () => {
      try {
        for (let i = 2; i <= 25; i++) {
          const a = tinyArtifact(i);
          const p = await writer.publish(a, { publishedBy: 'trainer', reason: `v${i}` });
          expected.set(p.version, a.weights);
        }
      } finally {
        done = true;
      }
    })();
    await Promise.all([readLoop, writes]);
    assert.ok(reads > 0);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, 'the pointer never moves back');
    const last = await reader.current();
    assert.equal(last?.version, 25);
    assert.ok(sameBytes(last.artifact.weights, expected.get(25)!));
  });

  test('a tampered version is refused by every reader; a watcher keeps the previous one', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-reg');
    const redis = redisClient(t);
    const reg = new ModelRegistry({ redis, pipeline: name });
    await reg.publish(tinyArtifact(1), { publishedBy: 'trainer', reason: 'good' });
    const delivered: number[] = [];
    const rejected: number[] = [];
    const watcher = reg.watch((m) => void delivered.push(m.version), {
      pollMs: 200,
      onRejected: (v) => void rejected.push(v),
    });
    t.after(() => watcher.close());
    await waitFor(() => delivered.includes(1), { message: 'version 1 delivered' });

    // Version 2 goes bad at rest (one flipped weight byte) and becomes current.
    const v2 = await commitQuietly(redis, name, 2, { corrupt: true });
    await waitFor(() => watcher.stats.rejected === 1, { message: 'version 2 rejected' });
    assert.deepEqual(rejected, [v2]);
    assert.deepEqual(delivered, [1]);
    assert.equal(watcher.stats.lastDelivered, 1);
    await assert.rejects(reg.current(), { code: 'INTEGRITY_CHECK_FAILED' });
    await assert.rejects(reg.get(v2), { code: 'INTEGRITY_CHECK_FAILED' });
    const list = await reg.list({ verify: true });
    assert.deepEqual(
      list.map((s) => [s.version, s.integrity]),
      [
        [2, 'failed'],
        [1, 'ok'],
      ],
    );
    await assert.rejects(reg.rollback(v2), { code: 'INTEGRITY_CHECK_FAILED' });

    // The operator's way out: roll back to the last good version while the current one is corrupt.
    const rb = await reg.rollback(1, 'current version is corrupt');
    await waitFor(() => delivered.includes(rb.version), { message: 'rollback delivered' });
    assert.equal((await reg.current())?.version, rb.version);

    // Editing a published version in place (its threshold) is refused too.
    const key = registryKeys(name).version(1);
    const manifest = JSON.parse((await redis.hget(key, 'manifest'))!);
    manifest.threshold.value = 1e9;
    await redis.hset(key, 'manifest', JSON.stringify(manifest));
    await assert.rejects(reg.get(1), { code: 'INTEGRITY_CHECK_FAILED' });

    // A newer good version is delivered as usual.
    const p4 = await reg.publish(tinyArtifact(4), { publishedBy: 'trainer', reason: 'fixed' });
    await waitFor(() => delivered.includes(p4.version), { message: 'version 4 delivered' });
    assert.deepEqual(delivered, [1, rb.version, p4.version]);
    assert.equal(watcher.stats.rejected, 1, 'a refused version is counted once');
  });

  test('rollback publishes a new version with the old content and a linear history', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-reg');
    const reg = new ModelRegistry({ redis: redisClient(t), pipeline: name });
    const v1 = await reg.publish(tinyArtifact(1), { publishedBy: 'trainer', reason: 'one' });
    await reg.publish(tinyArtifact(2), { publishedBy: 'adapter', reason: 'two' });
    const rb = await reg.rollback(1, 'drift adaptation went wrong');
    assert.equal(rb.version, 3);
    assert.equal(rb.publishedBy, 'rollback');
    assert.match(rb.reason, /rollback to version 1/);
    assert.match(rb.reason, /drift adaptation went wrong/);
    const cur = await reg.current();
    assert.equal(cur?.version, 3);
    assert.equal(cur.artifact.manifest.parentVersion, 2);
    assert.ok(sameBytes(cur.artifact.weights, v1.artifact.weights));
    assert.deepEqual(cur.artifact.manifest.threshold, v1.artifact.manifest.threshold);
    assert.deepEqual(cur.artifact.manifest.preprocessing, v1.artifact.manifest.preprocessing);
    assert.deepEqual(
      (await reg.list()).map((s) => s.version),
      [3, 2, 1],
    );
    await assert.rejects(reg.rollback(3), { code: 'INVALID_CONFIG' });
    await assert.rejects(reg.rollback(9), { code: 'MODEL_NOT_FOUND' });
  });

  test('history is bounded and never drops the current version', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-reg');
    const reg = new ModelRegistry({ redis: redisClient(t), pipeline: name, historyLimit: 3 });
    for (let i = 1; i <= 5; i++)
      await reg.publish(tinyArtifact(i), { publishedBy: 'trainer', reason: `v${i}` });
    assert.deepEqual(
      (await reg.list()).map((s) => s.version),
      [5, 4, 3],
    );
    await assert.rejects(reg.get(1), { code: 'MODEL_NOT_FOUND' });
    await assert.rejects(reg.rollback(2), { code: 'MODEL_NOT_FOUND' });
    assert.equal((await reg.current())?.version, 5);
    // A slow publisher that reserved early and commits late does not move the pointer back.
    const redis = redisClient(t);
    const keys = registryKeys(name);
    const [, early] = (await RESERVE.run(redis, [keys.seq, keys.current, keys.history], [''])) as [
      string,
      number,
    ];
    const later = await reg.publish(tinyArtifact(7), { publishedBy: 'trainer', reason: 'later' });
    assert.ok(later.version > early);
    const base = tinyArtifact(6);
    const sealed = sealArtifact({ ...base.manifest, version: early, pipeline: name }, base.weights);
    const reply = (await COMMIT.run(
      redis,
      [keys.version(early), keys.current, keys.history],
      [
        early,
        '',
        3,
        keys.versionPrefix,
        keys.events,
        '{}',
        ...encodeVersion(sealed, { publishedBy: 't', reason: 'r', publishedAt: 'x' }),
      ],
    )) as [string, number];
    assert.deepEqual(reply.slice(0, 2), ['OK', 0]);
    assert.equal(await reg.currentVersion(), later.version);
  });

  test('a late subscriber converges, and so does one that missed the announcement', async (t) => {
    const name = uniqueRedisPipeline(t, 'test-reg');
    const redis = redisClient(t);
    const reg = new ModelRegistry({ redis, pipeline: name });
    for (let i = 1; i <= 3; i++)
      await reg.publish(tinyArtifact(i), { publishedBy: 'trainer', reason: `v${i}` });

    const late: PublishedModel[] = [];
    const w1 = reg.watch((m) => void late.push(m), { pollMs: 300 });
    t.after(() => w1.close());
    await waitFor(() => late.length > 0, { message: 'late subscriber delivery' });
    assert.deepEqual(
      late.map((m) => m.version),
      [3],
      'only the current version, not the history',
    );

    // Announced: delivered through pub/sub.
    await reg.publish(tinyArtifact(4), { publishedBy: 'trainer', reason: 'v4' });
    await waitFor(() => w1.stats.lastDelivered === 4, { message: 'announced version 4' });
    // Not announced (lost message): the periodic pointer check finds it.
    const v5 = await commitQuietly(redis, name, 5);
    await waitFor(() => w1.stats.lastDelivered === v5, { message: 'unannounced version 5' });
    assert.ok(w1.stats.polls > 0);
    assert.deepEqual(
      late.map((m) => m.version),
      [3, 4, 5],
    );

    // A consumer that already runs version 5 is not called back for it.
    const calls: number[] = [];
    const w2 = reg.watch((m) => void calls.push(m.version), { pollMs: 200, afterVersion: 5 });
    t.after(() => w2.close());
    await w2.check();
    assert.equal(calls.length, 0);
    await reg.publish(tinyArtifact(6), { publishedBy: 'trainer', reason: 'v6' });
    await waitFor(() => calls.includes(6), { message: 'version 6 after afterVersion' });
  });
});
