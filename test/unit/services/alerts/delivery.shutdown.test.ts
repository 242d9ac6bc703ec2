import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlertDeliverer,
  DeliveryError,
  deliverWithRetry,
  type AlertQueue,
  type AlertSink,
} from '../../../../services/alerts/delivery.js';
import type { ClaimedAlert } from '../../../../services/alerts/redis-store.js';
import { buildAlert } from '../../../../services/alerts/suppression.js';
import { flag } from './flags.js';

const alert = buildAlert(flag(1, 'a', 0), 0, 1000);

/** A webhook that is down: every attempt fails retriably. */
function downSink(attempts: { n: number }, onAttempt?: () => void): AlertSink {
  return {
    name: 'webhook',
    async deliver() {
      attempts.n++;
      onAttempt?.();
      throw new DeliveryError('webhook answered 503', true);
    },
  };
}

test('no further attempt once the signal aborted', async () => {
  const ac = new AbortController();
  const attempts = { n: 0 };
  const r = await deliverWithRetry(
    downSink(attempts, () => ac.abort()),
    alert,
    { attempts: 5, signal: ac.signal, sleep: async () => undefined },
  );
  assert.equal(attempts.n, 1);
  assert.deepEqual(r, { ok: false, attempts: 1, error: 'delivery stopped (shutdown)', stopped: true });
});

test(
  'stopping during a long backoff hands the alert back instead of waiting or dead-lettering',
  { timeout: 20_000 },
  async () => {
    const released: string[] = [];
    const dead: string[] = [];
    let items: ClaimedAlert[] = [{ alert, raw: 'raw', redelivery: false }];
    const queue: AlertQueue = {
      async claim() {
        const c = items[0] ?? null;
        items = items.slice(1);
        return c;
      },
      async ack() {},
      async deadLetter(c) {
        dead.push(c.alert.alertId);
      },
      async release(c) {
        released.push(c.alert.alertId);
      },
    };
    let attempted!: () => void;
    const firstAttempt = new Promise<void>((resolve) => (attempted = resolve));
    const attempts = { n: 0 };
    const d = new AlertDeliverer({
      queue,
      sinks: [downSink(attempts, () => attempted())],
      // A backoff far longer than the test's timeout: stop() must not wait for it.
      retry: { attempts: 3, baseDelayMs: 600_000, maxDelayMs: 600_000 },
    });
    d.start();
    await firstAttempt;
    await d.stop();
    assert.equal(attempts.n, 1);
    assert.deepEqual(released, [alert.alertId]);
    assert.deepEqual(dead, []);
    assert.deepEqual(d.stats, { delivered: 0, deadLettered: 0, redelivered: 0 });
  },
);
