/**
 * The alerts service as it is deployed: a process on the shared lifecycle whose ops server answers
 * /healthz, /readyz and /metrics, and which shuts down cleanly on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';
import { onCleanup, uniqueGroup, uniquePipeline, uniqueTopic } from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';

test('the alerts service exposes its probes and metrics and stops on SIGTERM', async (t) => {
  const names = uniquePipeline(t, 'alerts-svc');
  const topic = await uniqueTopic(t, { prefix: 'flags', partitions: 1 });
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'services/alerts/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      SMAE_PIPELINE: names.name,
      SMAE_ALERTS_FLAGS_TOPIC: topic,
      SMAE_ALERTS_GROUP_ID: uniqueGroup(t, 'alerts-svc'),
      SMAE_ALERTS_METRICS_PORT: '0',
      SMAE_ALERTS_METRICS_HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  onCleanup(t, () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));

  const url = await waitFor(() => /"ops":"(http:\/\/[^"]+)"/.exec(stderr)?.[1], { timeoutMs: 60_000 });
  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200);
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 30_000 });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^smae_alerts_flags\b.* 0$/m);
  assert.match(metrics, /smae_alerts_pending_flags/);

  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /alerts stopped/);
});
