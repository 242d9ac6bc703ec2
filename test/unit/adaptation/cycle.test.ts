import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAdaptationOptions } from '../../../shared/adaptation/config.js';
import {
  cycleTag,
  isLockBusy,
  runAdaptationCycle,
  type CycleDeps,
} from '../../../shared/adaptation/cycle.js';
import { DriftStream } from '../../../lab/drift/drift-stream.js';
import { trainSimModel } from '../../../lab/drift/train.js';
import { MemoryAdapterState } from '../../../shared/adaptation/state.js';
import { isSmaeError } from '../../../shared/errors.js';
import type { ModelArtifact } from '../../../shared/model/artifact.js';
import { MemoryRegistry, memoryWindow } from './fakes.js';

const stream = new DriftStream({ rowsPerWindow: 600, seed: 11 });
let trained: ModelArtifact;

before(async () => {
  trained = await trainSimModel(stream, { rows: 1500, epochs: 10, seed: 3, version: null });
});

async function setup(rows = stream.window(1), model = trained) {
  const registry = new MemoryRegistry();
  await registry.publish(model, { publishedBy: 'trainer', reason: 'test' });
  const state = new MemoryAdapterState();
  const deps: CycleDeps = { pipeline: 'unit', registry, readWindow: memoryWindow(rows), state };
  return { registry, state, deps };
}

const options = resolveAdaptationOptions({ windowSize: 600, default: { supportSize: 128, steps: 5 } });

describe('runAdaptationCycle', () => {
  test('publishes one version with its lineage, support summary and figures', async () => {
    const { registry, deps } = await setup();
    const out = await runAdaptationCycle(deps, { cycleId: 'c1', options });
    assert.equal(out.status, 'published', JSON.stringify(out.status === 'refused' ? out.reasons : ''));
    assert.equal(out.duplicate, false);
    assert.equal(registry.versions.length, 2);
    const v2 = registry.versions[1]!;
    assert.equal(v2.publishedBy, 'adapter');
    assert.ok(v2.reason.includes(cycleTag('c1')));
    const m = v2.artifact.manifest;
    assert.equal(m.parentVersion, 1);
    assert.equal(m.adaptation?.['cycleId'], 'c1');
    assert.equal(m.adaptation?.['anchorVersion'], 1);
    assert.equal(m.adaptation?.policy, 'default');
    assert.equal(m.adaptation?.supportRows, 128);
    assert.match(m.threshold.reference, /^window-clean/);
    assert.equal(out.figures?.goldenRecall, 1);
    assert.ok((out.figures?.goldenRows ?? 0) > 0);
  });

  test('the same cycle id never publishes twice', async () => {
    const { registry, deps } = await setup();
    await runAdaptationCycle(deps, { cycleId: 'c1', options });
    const again = await runAdaptationCycle(deps, { cycleId: 'c1', options });
    assert.equal(again.duplicate, true);
    assert.equal(again.status, 'published');
    assert.equal(registry.publishes, 2); // the trainer's and one adaptation
  });

  test('a crash between publishing and recording is recovered from the registry, not republished', async () => {
    const { registry, state, deps } = await setup();
    const putOutcome = state.putOutcome.bind(state);
    let crash = true;
    state.putOutcome = async (o) => {
      if (crash && o.status === 'published') {
        crash = false;
        throw new Error('process killed');
      }
      return putOutcome(o);
    };
    await assert.rejects(runAdaptationCycle(deps, { cycleId: 'c2', options }), /process killed/);
    assert.equal(registry.versions.length, 2);
    const retry = await runAdaptationCycle(deps, { cycleId: 'c2', options });
    assert.equal(retry.status, 'published');
    assert.equal(retry.duplicate, true);
    assert.equal(retry.status === 'published' && retry.version, 2);
    assert.equal(registry.versions.length, 2);
    assert.equal((await state.getOutcome('c2'))?.status, 'published');
  });

  test('a window full of anomalies is refused (flagged-share) and nothing is published', async () => {
    const rows = stream.window(1).map((r) => {
      const record = { ...r.record };
      for (const f of stream.featureNames.slice(0, 3)) record[f] = (record[f] as number) * 20;
      return { ...r, record };
    });
    const { registry, state, deps } = await setup(rows);
    const out = await runAdaptationCycle(deps, { cycleId: 'c3', options });
    assert.equal(out.status, 'refused');
    assert.ok(out.status === 'refused' && out.reasons.includes('flagged-share'));
    assert.ok((out.figures?.flaggedShare ?? 0) > 0.9);
    assert.equal(registry.versions.length, 1);
    assert.equal((await state.getOutcome('c3'))?.status, 'refused');
  });

  test('too few rows is refused', async () => {
    const { registry, deps } = await setup(stream.window(1).slice(0, 50));
    const out = await runAdaptationCycle(deps, { cycleId: 'c4', options });
    assert.ok(out.status === 'refused' && out.reasons.includes('too-few-rows'));
    assert.equal(registry.versions.length, 1);
  });

  test('no current model is refused (no-model)', async () => {
    const registry = new MemoryRegistry();
    const deps: CycleDeps = {
      pipeline: 'unit',
      registry,
      readWindow: memoryWindow([]),
      state: new MemoryAdapterState(),
    };
    const out = await runAdaptationCycle(deps, { cycleId: 'c5', options });
    assert.ok(out.status === 'refused' && out.reasons.includes('no-model'));
  });

  test('a publish that lost a race fails retriably and records nothing', async () => {
    const { registry, state, deps } = await setup();
    const publish = registry.publish.bind(registry);
    let raced = false;
    registry.publish = async (a, meta) => {
      if (!raced) {
        raced = true;
        await publish(trained, { publishedBy: 'trainer', reason: 'concurrent retrain' });
      }
      return publish(a, meta);
    };
    await assert.rejects(runAdaptationCycle(deps, { cycleId: 'c6', options }), (err: unknown) => {
      assert.ok(isSmaeError(err) && err.code === 'PUBLISH_CONFLICT' && err.retriable);
      return true;
    });
    assert.equal(await state.getOutcome('c6'), null);
    // The retry adapts the new current version (a new anchor) and publishes once.
    const retry = await runAdaptationCycle(deps, { cycleId: 'c6', options });
    assert.equal(retry.status, 'published');
    assert.equal(registry.versions.at(-1)?.artifact.manifest.parentVersion, 2);
    assert.equal(registry.versions.at(-1)?.artifact.manifest.adaptation?.['anchorVersion'], 2);
  });

  test('a dry run checks but does not publish', async () => {
    const { registry, deps } = await setup();
    const out = await runAdaptationCycle(deps, { cycleId: 'c7', options, dryRun: true });
    assert.equal(out.status, 'dry-run');
    assert.ok(out.status === 'dry-run' && out.reasons.length === 0);
    assert.equal(registry.versions.length, 1);
    // Not recorded: the same id can still run for real.
    assert.equal((await runAdaptationCycle(deps, { cycleId: 'c7', options })).status, 'published');
  });

  test('a stale window (nothing new since the parent adaptation) is refused', async () => {
    const { registry, deps } = await setup();
    assert.equal((await runAdaptationCycle(deps, { cycleId: 's1', options })).status, 'published');
    const again = await runAdaptationCycle(deps, { cycleId: 's2', options });
    assert.ok(again.status === 'refused' && again.reasons.includes('stale-window'), JSON.stringify(again));
    assert.equal(again.figures?.newRows, 0);
    assert.equal(registry.versions.length, 2);
  });

  test('a busy pipeline lock fails the cycle as busy, without side effects', async () => {
    const { registry, state, deps } = await setup();
    deps.lock = { tryAcquire: async () => null };
    await assert.rejects(runAdaptationCycle(deps, { cycleId: 'b1', options }), (err: unknown) =>
      isLockBusy(err),
    );
    assert.equal(registry.versions.length, 1);
    assert.equal(await state.getOutcome('b1'), null);
    let released = 0;
    deps.lock = {
      tryAcquire: async () => ({
        token: 't',
        lost: false,
        release: async () => {
          released++;
        },
      }),
    };
    assert.equal((await runAdaptationCycle(deps, { cycleId: 'b1', options })).status, 'published');
    assert.equal(released, 1);
  });

  test('a lock lost before publishing publishes nothing', async () => {
    const { registry, deps } = await setup();
    deps.lock = { tryAcquire: async () => ({ token: 't', lost: true, release: async () => undefined }) };
    await assert.rejects(runAdaptationCycle(deps, { cycleId: 'l1', options }), /lock lost/);
    assert.equal(registry.versions.length, 1);
  });

  test('the anchor is frozen once and reused by descendants', async () => {
    const { state, deps } = await setup();
    await runAdaptationCycle(deps, { cycleId: 'a1', options });
    const anchor = await state.getAnchor(1);
    assert.ok(anchor);
    // Same window again: allow it (no new-rows bound) to see the second cycle's drift figures.
    const again = resolveAdaptationOptions({
      ...options,
      guardrails: { ...options.guardrails, minNewRows: 0 },
    });
    const out = await runAdaptationCycle(deps, { cycleId: 'a2', options: again });
    assert.equal(out.status, 'published');
    assert.equal(out.figures?.anchorVersion, 1);
    assert.equal(await state.getAnchor(2), null);
    assert.ok((out.figures?.weightDrift ?? 0) > 0);
    assert.ok((out.figures?.weightStep ?? 0) > 0);
  });

  test('a conformal model is refitted on rows under 10× its threshold, a percentile one under 2×', async () => {
    // The window carries the report's injected anomalies (far above the threshold): no refit may see
    // them. The conformal policy sets aside what is left itself, so it can keep more of the tail.
    const conformal = await trainSimModel(stream, {
      rows: 1500,
      epochs: 10,
      seed: 3,
      version: null,
      threshold: { kind: 'conformal', params: { alpha: 0.05 } },
    });
    const rows = stream.window(1);
    const byPolicy = async (model: ModelArtifact) => {
      const { deps } = await setup(rows, model);
      const out = await runAdaptationCycle(deps, { cycleId: 'ref', options, dryRun: true });
      return out.figures!;
    };
    const c = await byPolicy(conformal);
    const p = await byPolicy(trained);
    // Rows between 2× and 10× the threshold count for the conformal refit; the far-out ones for neither.
    assert.ok(
      c.referenceRows > p.referenceRows,
      `conformal ${c.referenceRows}, percentile ${p.referenceRows}`,
    );
    assert.ok(c.referenceRows < c.windowRows * 0.95, `${c.referenceRows} of ${c.windowRows}`);
  });
});
