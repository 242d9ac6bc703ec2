import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeVersion, encodeVersion, pairsToRecord, summarize } from '../../../shared/registry/codec.js';
import { registryKeys } from '../../../shared/registry/keys.js';
import { sealArtifact } from '../../../shared/model/artifact.js';
import { tinyArtifact } from './fixtures.js';

/** What the commit script stores for a version: the encoded pairs plus `previous`. */
function stored(
  version: number,
  pipeline: string,
  mutate?: (pairs: (string | Buffer)[]) => void,
): Record<string, Buffer> {
  const base = tinyArtifact(3);
  const artifact = sealArtifact({ ...base.manifest, version, pipeline }, base.weights);
  const pairs = encodeVersion(artifact, {
    publishedBy: 'trainer',
    reason: 'test',
    publishedAt: '2024-01-01T00:00:00Z',
  });
  mutate?.(pairs);
  pairs.push('previous', '2');
  return pairsToRecord(pairs.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

function field(pairs: (string | Buffer)[], name: string): number {
  return pairs.indexOf(name) + 1;
}

describe('registry keys', () => {
  test('all keys share the pipeline hash tag', () => {
    const k = registryKeys('orders');
    for (const key of [k.seq, k.current, k.history, k.events, k.version(7)])
      assert.match(key, /^smae:\{orders\}:/);
    assert.equal(k.version(7), 'smae:{orders}:models:v:7');
  });
  test('an invalid pipeline name is refused', () => {
    assert.throws(() => registryKeys('bad name'), { code: 'INVALID_CONFIG' });
  });
});

describe('version codec', () => {
  test('round trip gives the verified model with its metadata', () => {
    const m = decodeVersion(5, 'p', stored(5, 'p'));
    assert.equal(m.version, 5);
    assert.equal(m.artifact.manifest.version, 5);
    assert.equal(m.publishedBy, 'trainer');
    assert.equal(m.previous, 2);
    assert.deepEqual(Buffer.from(m.artifact.weights), Buffer.from(tinyArtifact(3).weights));
  });

  test('a flipped weight byte is refused', () => {
    const hash = stored(5, 'p', (pairs) => {
      const w = Buffer.from(pairs[field(pairs, 'weights')] as Buffer);
      w[3] = w[3]! ^ 0x01;
      pairs[field(pairs, 'weights')] = w;
    });
    assert.throws(() => decodeVersion(5, 'p', hash), { code: 'INTEGRITY_CHECK_FAILED' });
  });

  test('an edited threshold in the manifest is refused', () => {
    const hash = stored(5, 'p', (pairs) => {
      const m = JSON.parse(pairs[field(pairs, 'manifest')] as string);
      m.threshold.value = 99;
      pairs[field(pairs, 'manifest')] = JSON.stringify(m);
    });
    assert.throws(() => decodeVersion(5, 'p', hash), { code: 'INTEGRITY_CHECK_FAILED' });
  });

  test('a version stored under another number or pipeline is refused', () => {
    assert.throws(() => decodeVersion(6, 'p', stored(5, 'p')), { code: 'INTEGRITY_CHECK_FAILED' });
    assert.throws(() => decodeVersion(5, 'q', stored(5, 'p')), { code: 'INTEGRITY_CHECK_FAILED' });
  });

  test('unparseable manifest, missing weights and empty hash', () => {
    const badJson = stored(5, 'p', (pairs) => (pairs[field(pairs, 'manifest')] = '{oops'));
    assert.throws(() => decodeVersion(5, 'p', badJson), { code: 'INTEGRITY_CHECK_FAILED' });
    const noWeights = stored(5, 'p');
    delete noWeights['weights'];
    assert.throws(() => decodeVersion(5, 'p', noWeights), { code: 'INTEGRITY_CHECK_FAILED' });
    assert.throws(() => decodeVersion(5, 'p', {}), { code: 'MODEL_NOT_FOUND' });
  });

  test('summaries read the training figures from the manifest', () => {
    const hash = stored(5, 'p');
    const text = Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, v.toString('utf8')]));
    const s = summarize(5, 5, text);
    assert.equal(s.current, true);
    assert.equal(s.trainingRows, 103);
    assert.equal(s.percentile, 95);
    assert.equal(s.digestPrefix.length, 12);
    assert.equal(s.integrity, 'unchecked');
    assert.equal(summarize(5, 6, { manifest: '{' }).integrity, 'failed');
  });
});
