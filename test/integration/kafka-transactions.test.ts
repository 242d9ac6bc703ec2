/**
 * The scorer relies on Kafka transactions (exactly-once consume-transform-produce). This checks, against
 * the real broker, that kafkajs's transactional producer works with it: offsets sent within a
 * transaction are committed with it, and a read_committed consumer sees committed messages only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  consumeMessages,
  testAdmin,
  testProducer,
  uniqueGroup,
  uniqueName,
  uniqueTopic,
} from '../helpers/infra.js';

test('transactional produce + sendOffsets commits atomically; read_committed skips aborted data', async (t) => {
  const input = await uniqueTopic(t, { prefix: 'tx-in' });
  const output = await uniqueTopic(t, { prefix: 'tx-out' });
  const group = uniqueGroup(t, 'tx-group');
  const admin = await testAdmin(t);

  const producer = await testProducer(t, {
    transactionalId: uniqueName('tx'),
    idempotent: true,
    maxInFlightRequests: 1,
  });

  const committed = await producer.transaction();
  await committed.send({
    topic: output,
    messages: [
      { key: 'a', value: 'committed-1' },
      { key: 'b', value: 'committed-2' },
    ],
  });
  await committed.sendOffsets({
    consumerGroupId: group,
    topics: [{ topic: input, partitions: [{ partition: 0, offset: '3' }] }],
  });
  await committed.commit();

  const aborted = await producer.transaction();
  await aborted.send({ topic: output, messages: [{ key: 'c', value: 'aborted-1' }] });
  await aborted.abort();

  // A last committed transaction after the aborted one: once it is read, everything before it was too.
  const last = await producer.transaction();
  await last.send({ topic: output, messages: [{ key: 'd', value: 'committed-3' }] });
  await last.commit();

  const offsets = await admin.fetchOffsets({ groupId: group, topics: [input] });
  assert.deepEqual(
    offsets.map((o) => o.partitions.map((p) => [p.partition, p.offset])),
    [[[0, '3']]],
    'the offset sent within the committed transaction is the group offset',
  );

  const messages = await consumeMessages(t, {
    topic: output,
    count: 3,
    consumer: { readUncommitted: false },
  });
  assert.deepEqual(
    messages.map((m) => m.value?.toString()),
    ['committed-1', 'committed-2', 'committed-3'],
  );
});
