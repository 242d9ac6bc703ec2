/**
 * The adapter service against real Redis and BullMQ: scheduling, one version per cycle across
 * processes, refusal of an incident window, and a job whose process dies right after publishing.
 * (The adapter reads the scorer's window from Redis and publishes to the Redis registry; it does not
 * use Kafka.) The Redis-restart case lives in adapter-redis-restart.test.ts, on a private server.
 */
import { spawn } from 'node:child_process';
import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  buildAdapter,
  queueOptions,
  ADAPTER_QUEUE,
  type Adapter,
  type AdaptJobData,
} from '../../services/adapter/app.js';
import { resolveAdapterConfig } from '../../services/adapter/config.js';
import { cycleTag, type CycleResult } from '../../shared/adaptation/cycle.js';
import { DriftStream, type SimRow } from '../../lab/drift/drift-stream.js';
import { trainSimModel } from '../../lab/drift/train.js';
import { RedisAdapterState } from '../../shared/adaptation/state.js';
import { appendWindow } from '../../shared/adaptation/window.js';
import type { ModelArtifact } from '../../shared/model/artifact.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { onCleanup, testRedis, uniquePipeline } from '../helpers/infra.js';
import { waitFor } from '../helpers/wait.js';

const REPO = new URL('../../', import.meta.url);
const stream = new DriftStream({ rowsPerWindow: 800, seed: 5 });
let trained: ModelArtifact;

before(async () => {
  trained = await trainSimModel(stream, { rows: 3000, epochs: 30, seed: 1, restarts: 2, version: null });
});

interface Pipeline {
  name: string;
  redis: Redis;
  registry: ModelRegistry;
}

/** A unique pipeline with the trained model published (version 1) and a window of scored rows. */
async function pipelineWithModel(
  t: TestContext,
  rows: SimRow[] = stream.window(1),
  model: ModelArtifact = trained,
): Promise<Pipeline> {
  const names = uniquePipeline(t, 'adapt');
  const redis = await testRedis(t);
  const registry = new ModelRegistry({ redis, pipeline: names.name });
  await registry.publish(model, { publishedBy: 'trainer', reason: 'integration test' });
  await appendWindow(
    redis,
    names.name,
    rows.map((r) => ({ record: r.record, score: 0, flagged: false, key: r.key, ts: r.ts, version: 1 })),
  );
  // BullMQ's keys (queue prefix smae:{name}, the pipeline's hash tag) are removed through BullMQ itself.
  onCleanup(t, async () => {
    const q = new Queue(ADAPTER_QUEUE, { connection: redis, ...queueOptions(names.name) });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  });
  return { name: names.name, redis, registry };
}

async function startAdapter(
  t: TestContext,
  pipeline: string,
  raw: Record<string, unknown> = {},
): Promise<Adapter> {
  const config = resolveAdapterConfig({
    pipeline,
    every: '1000ms',
    lockDurationMs: '5000',
    stalledIntervalMs: '1000',
    backoffMs: '200',
    metricsPort: '0',
    ...raw,
  });
  const url = redisUrlFromEnv(process.env);
  const redis = createRedis(url, { connectionName: 'adapter-test' });
  const bullmq = createRedis(url, { connectionName: 'adapter-test-bullmq', maxRetriesPerRequest: null });
  const adapter = buildAdapter(config, { redis, bullmq });
  onCleanup(t, async () => {
    await Promise.all([redis, bullmq].map((c) => c.quit().catch(() => c.disconnect())));
  });
  onCleanup(t, () => adapter.close());
  await adapter.start();
  return adapter;
}

async function adapterVersions(registry: ModelRegistry) {
  return (await registry.list()).filter((v) => v.publishedBy === 'adapter');
}

async function finished(queue: Queue<AdaptJobData, CycleResult>, id: string): Promise<CycleResult> {
  let state = 'missing';
  const job = await waitFor(
    async () => {
      const j = await queue.getJob(id);
      state = j
        ? `${await j.getState()} (attempts ${j.attemptsMade}, ${j.failedReason ?? 'no failure'})`
        : 'missing';
      if (!j || !(await j.isCompleted())) return null;
      // The job read above may predate its completion (its return value not yet in it): read it again.
      const done = await queue.getJob(id);
      return done?.returnvalue ? done : null;
    },
    { timeoutMs: 60_000, message: () => `job ${id} to complete (last seen: ${state})` },
  );
  return job.returnvalue;
}

describe('adapter service', () => {
  test('reports ready only once started: the compute thread warm, the workers taking jobs', async (t) => {
    const p = await pipelineWithModel(t);
    const config = resolveAdapterConfig({ pipeline: p.name, schedule: 'false', metricsPort: '0' });
    assert.equal(config.compute, 'thread');
    const url = redisUrlFromEnv(process.env);
    const redis = createRedis(url, { connectionName: 'adapter-test' });
    const bullmq = createRedis(url, { connectionName: 'adapter-test-bullmq', maxRetriesPerRequest: null });
    onCleanup(t, async () => {
      await Promise.all([redis, bullmq].map((c) => c.quit().catch(() => c.disconnect())));
    });
    const adapter = buildAdapter(config, { redis, bullmq });
    onCleanup(t, () => adapter.close());
    assert.equal((await adapter.ready()).ok, false, 'not started');
    const starting = adapter.start();
    // The thread loads its modules and TensorFlow.js (seconds under tsx): still not ready meanwhile.
    assert.equal((await adapter.ready()).ok, false, 'starting');
    await starting;
    assert.equal((await adapter.ready()).ok, true, 'started');
  });

  test('the scheduler fires and publishes an adapted version', async (t) => {
    const p = await pipelineWithModel(t);
    const adapter = await startAdapter(t, p.name);
    const current = await waitFor(
      async () => {
        const c = await p.registry.current();
        return c !== null && c.version >= 2 ? c : null;
      },
      { timeoutMs: 60_000, message: 'an adapted version' },
    );
    assert.equal(current.publishedBy, 'adapter');
    assert.match(current.reason, /\[cycle:repeat:adapt:/);
    const m = current.artifact.manifest;
    assert.equal(m.parentVersion, current.version - 1);
    assert.equal(m.adaptation?.['anchorVersion'], 1);
    assert.equal(m.adaptation?.policy, 'default');
    // The cycle is counted after it publishes (and records its outcome): wait for the count.
    await waitFor(
      async () =>
        /smae_adapter_cycles_total\{[^}]*outcome="published"[^}]*\} [1-9]/.test(
          await adapter.metricsRegistry.metrics(),
        ),
      { timeoutMs: 30_000, message: 'the published cycle counted' },
    );
  });

  test('two adapter instances never publish twice for one cycle', async (t) => {
    const p = await pipelineWithModel(t);
    // The scorer keeps writing: new rows every 300 ms, so each cycle has fresh data (a stale window is refused).
    const feed = stream.window(2);
    let offset = 0;
    const feeder = setInterval(() => {
      const rows = feed.slice(offset % feed.length, (offset % feed.length) + 200);
      offset += 200;
      void appendWindow(
        p.redis,
        p.name,
        rows.map((r) => ({
          record: r.record,
          score: 0,
          flagged: false,
          key: r.key,
          ts: Date.now(),
          version: null,
        })),
      ).catch(() => undefined);
    }, 300);
    onCleanup(t, () => clearInterval(feeder));
    const a = await startAdapter(t, p.name, { every: '300ms' });
    const b = await startAdapter(t, p.name, { every: '300ms' });
    // Both also queue the same manual cycle: one job, one version.
    await Promise.all([
      a.trigger(p.name, { cycleId: 'manual-same' }),
      b.trigger(p.name, { cycleId: 'manual-same' }),
    ]);
    await waitFor(async () => (await adapterVersions(p.registry)).length >= 5, {
      timeoutMs: 90_000,
      message: 'five adapted versions',
    });
    clearInterval(feeder);
    await a.close();
    await b.close();
    const versions = await adapterVersions(p.registry);
    const tags = versions.map((v) => /\[cycle:([^\]]+)\]/.exec(v.reason)?.[1]);
    assert.ok(tags.every((x) => x !== undefined));
    assert.equal(new Set(tags).size, tags.length, `a cycle published twice: ${tags.join(', ')}`);
    // Linear history: each adapted version's parent is the version before it.
    for (const v of versions) assert.equal(v.parentVersion, v.version - 1);
    const manual = tags.filter((x) => x === 'manual-same').length;
    assert.ok(manual <= 1);
  });

  test('a window full of anomalies is refused (flagged-share)', async (t) => {
    const incident = stream.window(1).map((r) => {
      const record = { ...r.record };
      for (const f of stream.featureNames.slice(0, 4)) record[f] = (record[f] as number) * 15;
      return { ...r, record };
    });
    const p = await pipelineWithModel(t, incident);
    const adapter = await startAdapter(t, p.name, { every: '1h', schedule: 'false' });
    const job = await adapter.trigger(p.name, { requestedBy: 'test' });
    const result = await finished(adapter.queue(p.name), job.id!);
    assert.equal(result.status, 'refused');
    assert.ok(
      result.status === 'refused' && result.reasons.includes('flagged-share'),
      JSON.stringify(result),
    );
    assert.ok((result.figures?.flaggedShare ?? 0) > 0.9);
    assert.equal((await p.registry.current())?.version, 1);
    const stored = await new RedisAdapterState(p.redis, p.name).getOutcome(job.id!);
    assert.equal(stored?.status, 'refused');
    assert.match(
      await adapter.metricsRegistry.metrics(),
      /smae_adapter_refusals_total\{[^}]*reason="flagged-share"[^}]*\} 1/,
    );
  });

  test('a job whose process dies right after publishing is taken over and does not publish again', async (t) => {
    const p = await pipelineWithModel(t);
    const cycleId = 'cycle-killed-after-publish';
    // A child adapter process that SIGKILLs itself right after its publish, before recording the cycle
    // or completing the job: the job stays active with a lock nobody renews.
    const script = `
      import { buildAdapter } from ${JSON.stringify(new URL('services/adapter/app.ts', REPO).href)};
      import { resolveAdapterConfig } from ${JSON.stringify(new URL('services/adapter/config.ts', REPO).href)};
      import { createRedis } from ${JSON.stringify(new URL('shared/redis/client.ts', REPO).href)};
      const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      const config = resolveAdapterConfig({ pipeline: ${JSON.stringify(p.name)}, schedule: 'false', lockDurationMs: '2000', stalledIntervalMs: '1000', pipelineLockTtlMs: '2000', compute: 'inline' });
      const adapter = buildAdapter(config, {
        redis: createRedis(url),
        bullmq: createRedis(url, { maxRetriesPerRequest: null }),
        afterPublish: () => { process.kill(process.pid, 'SIGKILL'); return new Promise(() => {}); },
      });
      await adapter.start();
      await adapter.trigger(${JSON.stringify(p.name)}, { cycleId: ${JSON.stringify(cycleId)} });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      env: process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    onCleanup(t, () => child.kill('SIGKILL'));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );
    assert.equal(
      signal,
      'SIGKILL',
      `the child adapter should have killed itself after publishing: ${stderr}`,
    );
    assert.equal((await adapterVersions(p.registry)).length, 1);

    // A second adapter takes the stalled job over once the dead one's job lock expires, and waits for
    // the dead one's pipeline lock to lapse (without spending attempts) before running the cycle.
    const adapter = await startAdapter(t, p.name, {
      schedule: 'false',
      lockDurationMs: '2000',
      stalledIntervalMs: '1000',
      pipelineLockTtlMs: '2000',
    });
    const result = await finished(adapter.queue(p.name), cycleId);
    assert.equal(result.status, 'published');
    assert.equal(result.duplicate, true);
    const versions = await adapterVersions(p.registry);
    assert.equal(versions.length, 1, 'the cycle published a second version');
    assert.ok(versions[0]!.reason.includes(cycleTag(cycleId)));
    assert.equal(result.status === 'published' && result.version, versions[0]!.version);
    assert.equal((await new RedisAdapterState(p.redis, p.name).getOutcome(cycleId))?.status, 'published');
  });
});

describe('adapter service: threshold policies', () => {
  let conformal: ModelArtifact;
  before(async () => {
    conformal = await trainSimModel(stream, {
      rows: 3000,
      epochs: 30,
      seed: 1,
      restarts: 2,
      version: null,
      threshold: { kind: 'conformal', params: { alpha: 0.01 } },
    });
  });

  test('refits the published model’s own policy on the reference rows', async (t) => {
    const p = await pipelineWithModel(t, stream.window(1), conformal);
    // The window has drifted (the 1 % threshold moves by ~70 %): the step bounds are lifted here, the
    // next test shows them refusing.
    const adapter = await startAdapter(t, p.name, {
      every: '1h',
      schedule: 'false',
      maxThresholdDrift: '100',
      adaptation: JSON.stringify({ guardrails: { maxThresholdStep: 100 } }),
    });
    const job = await adapter.trigger(p.name, { requestedBy: 'test' });
    const result = await finished(adapter.queue(p.name), job.id!);
    assert.equal(result.status, 'published', JSON.stringify(result));
    const current = (await p.registry.current())!;
    assert.equal(current.version, 2);
    const before = conformal.manifest.threshold;
    const after = current.artifact.manifest.threshold;
    assert.equal(after.policy?.kind, 'conformal');
    assert.deepEqual(after.policy?.params, { alpha: 0.01 });
    assert.match(after.reference, /^window-clean/);
    assert.notEqual(after.referenceRows, before.referenceRows);
    // The refitted state is the reference rows' scores: the threshold is the order statistic where p ≤ α.
    const calibration = (after.policy?.state as { calibration: number[] }).calibration;
    const k = Math.floor(0.01 * (calibration.length + 1)) - 1;
    assert.equal(after.value, calibration[calibration.length - k - 1]);
    // And the guardrail figures were measured on the refitted threshold.
    assert.equal(result.figures?.thresholdAfter, after.value);
    assert.equal(result.figures?.thresholdBefore, before.value);
  });

  test('--threshold-policy / --target-fpr switch the policy; a large threshold move is refused', async (t) => {
    const p = await pipelineWithModel(t, stream.window(1), conformal);
    // spot at 20 %: the threshold moves far from the conformal 1 % one, more than the 30 % per-cycle bound.
    const strict = await startAdapter(t, p.name, {
      every: '1h',
      schedule: 'false',
      thresholdPolicy: 'spot',
      targetFpr: '0.2',
    });
    const refused = await finished(
      strict.queue(p.name),
      (await strict.trigger(p.name, { requestedBy: 'test' })).id!,
    );
    assert.equal(refused.status, 'refused', JSON.stringify(refused));
    assert.ok(refused.status === 'refused' && refused.reasons.includes('threshold-step'));
    assert.equal((await p.registry.current())?.version, 1);
    await strict.close();

    const loose = await startAdapter(t, p.name, {
      every: '1h',
      schedule: 'false',
      thresholdPolicy: 'spot',
      targetFpr: '0.2',
      maxThresholdDrift: '100',
      adaptation: JSON.stringify({ guardrails: { maxThresholdStep: 100 } }),
    });
    const ok = await finished(
      loose.queue(p.name),
      (await loose.trigger(p.name, { requestedBy: 'test' })).id!,
    );
    assert.equal(ok.status, 'published', JSON.stringify(ok));
    const m = (await p.registry.current())!.artifact.manifest.threshold;
    assert.equal(m.policy?.kind, 'spot');
    assert.equal((m.policy?.params as { q: number }).q, 0.2);
  });
});
