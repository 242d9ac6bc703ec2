import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, WaitTimeoutError } from '../../helpers/wait.js';

test('waitFor returns the first truthy value of the condition', async () => {
  let calls = 0;
  const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
  assert.deepEqual(value, { calls: 3 });
});

test('waitFor treats a throwing condition as not yet, and reports its last error on timeout', async () => {
  let calls = 0;
  const ok = await waitFor(
    async () => {
      if (++calls < 2) throw new Error('not ready');
      return true;
    },
    { intervalMs: 1 },
  );
  assert.equal(ok, true);

  await assert.rejects(
    waitFor(
      () => {
        throw new Error('still broken');
      },
      { timeoutMs: 20, intervalMs: 5, message: 'the thing' },
    ),
    (err: unknown) =>
      err instanceof WaitTimeoutError &&
      /waiting for the thing/.test(err.message) &&
      /still broken/.test(err.message),
  );
});

test('waitFor times out on a condition that stays false, with the message it was given', async () => {
  await assert.rejects(
    waitFor(() => false, { timeoutMs: 10, intervalMs: 2, message: () => 'a computed message' }),
    /timed out after 10 ms waiting for a computed message/,
  );
});
