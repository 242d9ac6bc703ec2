import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlertDeliverer,
  DeliveryError,
  backoffDelay,
  deliverWithRetry,
  isRetriableStatus,
  stdoutSink,
  webhookSink,
  type AlertQueue,
  type AlertSink,
} from '../../../../services/alerts/delivery.js';
import type { ClaimedAlert } from '../../../../services/alerts/redis-store.js';
import { buildAlert, type Alert } from '../../../../services/alerts/suppression.js';
import { flag } from './flags.js';

const alert: Alert = buildAlert(flag(1, 'a', 0), 0, 1000);
const noSleep = { sleep: async () => undefined, random: () => 0.5 };

function failingSink(failures: number, retriable = true): AlertSink & { calls: number } {
  const s = {
    name: 'fake',
    calls: 0,
    async deliver() {
      s.calls++;
      if (s.calls <= failures) throw new DeliveryError(`fail ${s.calls}`, retriable);
    },
  };
  return s;
}

describe('retries', () => {
  test('backoff doubles from the base, is capped, and jitters within [half, full]', () => {
    assert.equal(
      backoffDelay(1, 500, 10_000, () => 1),
      500,
    );
    assert.equal(
      backoffDelay(3, 500, 10_000, () => 1),
      2000,
    );
    assert.equal(
      backoffDelay(3, 500, 10_000, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(10, 500, 10_000, () => 1),
      10_000,
    );
  });

  test('a transient failure is retried until it succeeds, with growing delays', async () => {
    const sink = failingSink(2);
    const delays: number[] = [];
    const r = await deliverWithRetry(sink, alert, {
      attempts: 5,
      baseDelayMs: 100,
      random: () => 1,
      sleep: async (ms) => void delays.push(ms),
    });
    assert.deepEqual(r, { ok: true, attempts: 3 });
    assert.deepEqual(delays, [100, 200]);
  });

  test('attempts run out → failure with the last error; a non-retriable error stops at once', async () => {
    const r = await deliverWithRetry(failingSink(10), alert, { attempts: 3, ...noSleep });
    assert.deepEqual(r, { ok: false, attempts: 3, error: 'fail 3' });
    const sink = failingSink(10, false);
    const r2 = await deliverWithRetry(sink, alert, { attempts: 5, ...noSleep });
    assert.equal(r2.ok, false);
    assert.equal(sink.calls, 1);
  });

  test('which HTTP answers are retried', () => {
    assert.ok(
      isRetriableStatus(500) && isRetriableStatus(503) && isRetriableStatus(429) && isRetriableStatus(408),
    );
    assert.ok(!isRetriableStatus(400) && !isRetriableStatus(404) && !isRetriableStatus(422));
  });
});

describe('sinks', () => {
  test('the webhook POSTs the alert as JSON with an idempotency key, and classifies answers', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    let status = 200;
    const fetchImpl = (async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return new Response('{}', { status });
    }) as unknown as typeof fetch;
    const sink = webhookSink({
      url: 'http://hook.test/x',
      headers: { authorization: 'Bearer t' },
      fetchImpl,
    });
    await sink.deliver(alert);
    assert.equal(seen[0]!.init.method, 'POST');
    const headers = seen[0]!.init.headers as Record<string, string>;
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['idempotency-key'], alert.alertId);
    assert.equal(headers.authorization, 'Bearer t');
    assert.deepEqual(JSON.parse(String(seen[0]!.init.body)), alert);
    status = 503;
    await assert.rejects(sink.deliver(alert), (e: unknown) => e instanceof DeliveryError && e.retriable);
    status = 400;
    await assert.rejects(sink.deliver(alert), (e: unknown) => e instanceof DeliveryError && !e.retriable);
  });

  test('a network error is retriable', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await assert.rejects(
      webhookSink({ url: 'http://hook.test/x', fetchImpl }).deliver(alert),
      (e: unknown) => e instanceof DeliveryError && e.retriable && /fetch failed/.test(e.message),
    );
  });

  test('stdout writes one JSON line, or one text line', async () => {
    const lines: string[] = [];
    await stdoutSink('json', (l) => lines.push(l)).deliver(alert);
    await stdoutSink('text', (l) => lines.push(l)).deliver(alert);
    assert.deepEqual(JSON.parse(lines[0]!), alert);
    assert.match(lines[1]!, /^ALERT .* key=a /);
    assert.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1));
  });
});

describe('AlertDeliverer', () => {
  class FakeQueue implements AlertQueue {
    items: ClaimedAlert[] = [];
    acked: string[] = [];
    dead: { id: string; sink: string }[] = [];
    async claim(): Promise<ClaimedAlert | null> {
      return this.items.shift() ?? null;
    }
    async ack(c: ClaimedAlert): Promise<void> {
      this.acked.push(c.alert.alertId);
    }
    async deadLetter(c: ClaimedAlert, f: { sink: string }): Promise<void> {
      this.dead.push({ id: c.alert.alertId, sink: f.sink });
    }
  }

  test('delivered alerts are acked; one a sink refuses goes to the dead letters', async () => {
    const q = new FakeQueue();
    const a1 = buildAlert(flag(1, 'a', 0), 0, 1000);
    const a2 = buildAlert(flag(2, 'b', 0), 0, 1000);
    q.items.push({ alert: a1, raw: '', redelivery: false }, { alert: a2, raw: '', redelivery: true });
    const printed: string[] = [];
    const picky: AlertSink = {
      name: 'webhook',
      async deliver(a) {
        if (a.key === 'b') throw new DeliveryError('webhook answered 410', false);
      },
    };
    const d = new AlertDeliverer({
      queue: q,
      sinks: [stdoutSink('json', (l) => printed.push(l)), picky],
      retry: noSleep,
    });
    assert.equal(await d.drain(), 2);
    assert.deepEqual(q.acked, [a1.alertId]);
    assert.deepEqual(q.dead, [{ id: a2.alertId, sink: 'webhook' }]);
    assert.deepEqual(d.stats, { delivered: 1, deadLettered: 1, redelivered: 1 });
    assert.equal(printed.length, 2);
  });
});
