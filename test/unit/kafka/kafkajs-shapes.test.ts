import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  committedOffsetsOf,
  lazyProducer,
  toControl,
  toInBatch,
  toSentOffsets,
  toTopicMessages,
} from '../../../shared/kafka/kafkajs-shapes.js';

test('a client batch becomes the port’s: records in order, the next offset past the last one, its lag', () => {
  const batch = toInBatch({
    topic: 't',
    partition: 3,
    messages: [
      {
        offset: '41',
        key: Buffer.from('k'),
        value: Buffer.from('a'),
        timestamp: '1000',
        headers: { h: 'v' },
      },
      { offset: '42', value: null, timestamp: '1001' },
    ],
    lastOffset: () => '43', // a trailing control record
    offsetLag: () => '7',
  });
  assert.equal(batch.topic, 't');
  assert.equal(batch.partition, 3);
  assert.deepEqual(
    batch.records.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null, r.headers]),
    [
      ['41', 'k', 'a', { h: 'v' }],
      ['42', null, null, {}],
    ],
  );
  assert.equal(batch.nextOffset, '44');
  assert.equal(batch.lag(), 7);
});

test('offsets past 2^53 stay exact', () => {
  const batch = toInBatch({
    topic: 't',
    partition: 0,
    messages: [{ offset: '9007199254740993', value: null, timestamp: '0' }],
    lastOffset: () => '9007199254740993',
    offsetLag: () => '0',
  });
  assert.equal(batch.nextOffset, '9007199254740994');
});

test('empty topics are not sent', () => {
  const out = toTopicMessages([
    { topic: 'a', records: [] },
    { topic: 'b', records: [{ key: null, value: Buffer.from('x') }] },
  ]);
  assert.deepEqual(
    out.map((t) => [t.topic, t.messages.length]),
    [['b', 1]],
  );
});

test('a send’s answer gives each partition’s base offset (-1 when the client reported none)', () => {
  assert.deepEqual(
    toSentOffsets([
      { topicName: 't', partition: 2, baseOffset: '9007199254740993' },
      { topicName: 't', partition: 0 },
    ]),
    [
      { topic: 't', partition: 2, baseOffset: '9007199254740993' },
      { topic: 't', partition: 0, baseOffset: '-1' },
    ],
  );
});

test('the lazy producer connects once, on connect() or its first send, and answers the offsets', async () => {
  const calls: string[] = [];
  const producer = lazyProducer({
    connect: async () => void calls.push('connect'),
    disconnect: async () => void calls.push('disconnect'),
    sendBatch: async (b) => {
      calls.push(`send ${b.topicMessages.length}`);
      return [{ topicName: 'a', partition: 1, baseOffset: '5' }];
    },
  });
  await producer.connect();
  assert.deepEqual(await producer.send([]), []);
  assert.deepEqual(
    await producer.send([{ topic: 'a', records: [{ key: 'k', value: null, partition: 1 }] }]),
    [{ topic: 'a', partition: 1, baseOffset: '5' }],
  );
  await producer.close();
  assert.deepEqual(calls, ['connect', 'send 1', 'disconnect']);
});

test('the lazy producer tries a failed connect again on the next send', async () => {
  let attempts = 0;
  const producer = lazyProducer({
    connect: async () => {
      if (++attempts === 1) throw new Error('broker down');
    },
    disconnect: async () => undefined,
    sendBatch: async () => [],
  });
  await assert.rejects(producer.connect(), /broker down/);
  await producer.send([{ topic: 'a', records: [{ key: 'k', value: null, partition: 0 }] }]);
  assert.equal(attempts, 2);
});

test('committed offsets: −1 and empty mean nothing committed', () => {
  const m = committedOffsetsOf(
    [
      { topic: 'other', partitions: [{ partition: 0, offset: '5' }] },
      {
        topic: 't',
        partitions: [
          { partition: 0, offset: '10' },
          { partition: 1, offset: '-1' },
          { partition: 2, offset: '' },
        ],
      },
    ],
    't',
  );
  assert.deepEqual([...m], [[0, '10']]);
});

test('batch control passes through to the client’s payload; seek goes where the adapter says', async () => {
  const calls: string[] = [];
  const control = toControl(
    {
      resolveOffset: (o) => void calls.push(`resolve ${o}`),
      heartbeat: async () => void calls.push('heartbeat'),
      isRunning: () => true,
      isStale: () => false,
    },
    (o) => void calls.push(`seek ${o}`),
  );
  control.resolveOffset('5');
  await control.heartbeat();
  control.seek('3');
  assert.deepEqual(calls, ['resolve 5', 'heartbeat', 'seek 3']);
  assert.equal(control.isRunning(), true);
  assert.equal(control.isStale(), false);
});
