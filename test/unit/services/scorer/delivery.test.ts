import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outputSends, transactionalIdFor } from '../../../../services/scorer/delivery.js';
import { TopicSizeLimits, estimateRecordBytes, sendBudget } from '../../../../shared/kafka/record-size.js';

test('transactional ids are per input partition, so ownership moves with the partition', () => {
  assert.equal(transactionalIdFor('pay.scorer.tx', 'pay.records', 3), 'pay.scorer.tx.pay.records.3');
});

test('outputs are sent in chunks under each topic’s limit; oversized dead letters become references', () => {
  const limits = new TopicSizeLimits();
  limits.set('flags', 10_000);
  limits.set('scores', 4_000);
  limits.set('dlq', 2_000);
  const rec = (n: number) => ({ key: 'k', value: Buffer.alloc(n) });
  const outputs = {
    flags: Array.from({ length: 30 }, () => rec(900)),
    scores: Array.from({ length: 30 }, () => rec(100)),
    deadLetters: [
      {
        key: 'd',
        value: Buffer.alloc(50_000),
        headers: { 'smae.source.topic': 'in', 'smae.source.partition': '0', 'smae.source.offset': '5' },
      },
    ],
  };
  const sends = outputSends({ flags: 'flags', scores: 'scores', deadLetters: 'dlq' }, outputs, limits);
  assert.ok(sends.length >= 3);
  const sent: Record<string, number> = { flags: 0, scores: 0, dlq: 0 };
  for (const send of sends) {
    for (const tm of send) {
      const bytes = tm.records.reduce((s, m) => s + estimateRecordBytes(m as never), 0);
      assert.ok(bytes <= sendBudget(limits.maxMessageBytes(tm.topic)), `${tm.topic}: ${bytes} bytes`);
      sent[tm.topic]! += tm.records.length;
    }
  }
  assert.deepEqual(sent, { flags: 30, scores: 30, dlq: 1 });
  assert.equal(sends[0]!.length, 3, 'the first send carries every topic');
  assert.deepEqual(
    outputSends(
      { flags: 'f', scores: 's', deadLetters: 'd' },
      { flags: [], scores: [], deadLetters: [] },
      limits,
    ),
    [],
  );
});
