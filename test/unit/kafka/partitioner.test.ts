import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { DefaultPartitioner, murmur2, partitionForKey } from '../../../shared/kafka/partitioner.js';

// kafkajs's own (Long-based) murmur2, the reference: the same function kafkajs's DefaultPartitioner hashes with.
const kafkajsMurmur2 = createRequire(import.meta.url)(
  'kafkajs/src/producer/partitioners/default/murmur2.js',
) as (key: Buffer | string) => number;

function keys(): (Buffer | string)[] {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const out: (Buffer | string)[] = ['', 'a', 'ab', 'abc', 'abcd', 'bench.records:1:100000', 'ключ', 'キー🔑'];
  for (let n = 0; n < 300; n++) {
    const len = next() % 41;
    out.push(Buffer.from(Array.from({ length: len }, () => next() & 0xff)));
    out.push(Array.from({ length: len }, () => String.fromCharCode(32 + (next() % 95))).join(''));
  }
  return out;
}

test('murmur2 equals the Java-compatible hash kafkajs computes, for strings (ASCII and not) and bytes', () => {
  for (const k of keys()) assert.equal(murmur2(k), kafkajsMurmur2(k), `key ${JSON.stringify(k.toString())}`);
});

test("Kafka's published murmur2 values (Utils.murmur2 test vectors)", () => {
  // From Kafka's UtilsTest.testMurmur2: the hash of these UTF-8 strings.
  const cases: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [k, h] of cases) assert.equal(murmur2(k), h, k);
});

test('partitionForKey is the positive hash modulo the partition count', () => {
  assert.equal(partitionForKey('21', 7), (-973932308 & 0x7fffffff) % 7);
  for (const k of keys()) {
    const p = partitionForKey(k, 12);
    assert.ok(Number.isInteger(p) && p >= 0 && p < 12);
  }
});

test("DefaultPartitioner picks the partition kafkajs's DefaultPartitioner picks", () => {
  const ours = DefaultPartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: 6 }, (_, p) => ({
    partitionId: p,
    leader: 1,
  })) as PartitionMetadata[];
  for (const key of keys()) {
    const message = { key, value: null };
    assert.equal(
      ours({ topic: 't', partitionMetadata, message }),
      theirs({ topic: 't', partitionMetadata, message }),
    );
  }
  // An explicit partition wins; no key falls back to kafkajs's round robin (a partition that exists).
  assert.equal(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 4 } }), 4);
  const p = ours({ topic: 't', partitionMetadata, message: { value: null } });
  assert.ok(p >= 0 && p < 6);
});
