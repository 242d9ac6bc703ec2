import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter } from 'prom-client';
import { createMetricsRegistry, startOpsServer } from '../../../shared/ops/index.js';

test('ops server: /metrics, /healthz and /readyz with reasons', async () => {
  const registry = createMetricsRegistry({ service: 'test', pipeline: 'p', defaultMetrics: false });
  new Counter({ name: 'smae_test_total', help: 'a test counter', registers: [registry] }).inc(3);
  let ready = false;
  const server = await startOpsServer({
    registry,
    port: 0,
    host: '127.0.0.1',
    ready: () => (ready ? { ok: true } : { ok: false, detail: { reason: 'no model yet' } }),
  });
  try {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /smae_test_total\{service="test",pipeline="p"\} 3/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const notReady = await fetch(`${server.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { ok: false, reason: 'no model yet' });
    ready = true;
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    assert.equal((await fetch(`${server.url}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

test('ops server: a port in use is a configuration error naming the port and the setting', async () => {
  const { ConfigError } = await import('../../../shared/errors.js');
  const registry = createMetricsRegistry({ service: 'test', pipeline: 'p', defaultMetrics: false });
  const first = await startOpsServer({ registry, port: 0, host: '127.0.0.1' });
  try {
    await assert.rejects(
      startOpsServer({ registry, port: first.port, host: '127.0.0.1' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.issues[0]!.path === 'SMAE_METRICS_PORT / --metrics-port' &&
        e.issues[0]!.message.startsWith(`port ${first.port} is already in use on 127.0.0.1`) &&
        /set SMAE_METRICS_PORT to a free port/.test(e.issues[0]!.message),
    );
    await assert.rejects(
      startOpsServer({
        registry,
        port: first.port,
        host: '127.0.0.1',
        portSetting: 'SMAE_OPS_PORT / --ops-port',
      }),
      (e: unknown) => e instanceof ConfigError && /set SMAE_OPS_PORT/.test(e.issues[0]!.message),
    );
  } finally {
    await first.close();
  }
});
