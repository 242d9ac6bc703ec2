/**
 * The demo's broker warm-up (tools/infra/kafka/warmup.ts) against the real broker: it commits
 * transactions whose records a read_committed reader sees, stops when its signal aborts, and leaves no
 * scratch topic behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmUpBroker } from '../../tools/infra/kafka/warmup.js';
import { testPort } from '../helpers/infra.js';

test('the warm-up commits transactions, stops on its signal and deletes its scratch topics', async () => {
  const kafka = testPort('smae-warmup-test');
  const stop = new AbortController();
  const t0 = Date.now();
  const warming = warmUpBroker(kafka, { signal: stop.signal, maxSeconds: 60, producers: 2 });
  await new Promise((r) => setTimeout(r, 6000));
  stop.abort();
  const result = await warming;
  assert.ok(Date.now() - t0 < 30_000, `stopped ${Date.now() - t0} ms after it started`);
  assert.ok(result.transactions > 0, `${result.transactions} transactions`);
  assert.ok(result.recordsRead > 0, `${result.recordsRead} records read`);

  const admin = kafka.admin();
  await admin.connect();
  try {
    const left = (await admin.listTopics()).filter((t) => t.startsWith(`smae-warmup-${process.pid}-`));
    assert.deepEqual(left, []);
  } finally {
    await admin.disconnect();
  }
});

test('the warm-up ends by itself after maxSeconds, without a signal', async () => {
  // Setting up (topics, the reader's group) may take most of a short budget on a busy machine, so only
  // the end is asserted here; the test above asserts the transactions.
  const result = await warmUpBroker(testPort('smae-warmup-test'), { maxSeconds: 2, producers: 1 });
  assert.ok(result.seconds >= 2 && result.seconds < 20, `${result.seconds} s`);
});
