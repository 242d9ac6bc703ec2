import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnchorState } from '../../../shared/adaptation/anchor.js';
import { decodeAnchor, encodeAnchor, MemoryAdapterState } from '../../../shared/adaptation/state.js';
import type { CycleOutcome } from '../../../shared/adaptation/types.js';

function anchor(version: number): AnchorState {
  return {
    anchorVersion: version,
    threshold: 0.125,
    residualThreshold: 0.0625,
    weightShapes: [[2, 3], [3]],
    weights: [Float32Array.from([1, 2, 3, 4, 5, 6]), Float32Array.from([0.5, -0.5, 0.25])],
    golden: {
      matrix: Float32Array.from([1, 2, 3, 4]),
      rows: 2,
      width: 2,
      variants: ['A', 'B'],
      injected: 3,
      anchorRecall: 2 / 3,
    },
    goldenSource: 'test',
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

describe('anchor encoding', () => {
  test('round-trips exactly', () => {
    const a = anchor(3);
    const { meta, weights, golden } = encodeAnchor(a);
    assert.deepEqual(decodeAnchor(meta, weights, golden), a);
  });
});

describe('memory state', () => {
  test('the first anchor written for a version wins', async () => {
    const s = new MemoryAdapterState();
    const first = anchor(1);
    const second = { ...anchor(1), threshold: 9 };
    assert.equal(await s.putAnchor(first), first);
    assert.equal(await s.putAnchor(second), first);
    assert.equal((await s.getAnchor(1))?.threshold, 0.125);
    assert.equal(await s.getAnchor(2), null);
  });

  test('outcomes are found by cycle id and listed newest first', async () => {
    const s = new MemoryAdapterState();
    const o = (id: string): CycleOutcome => ({
      status: 'refused',
      reasons: ['too-few-rows'],
      cycleId: id,
      pipeline: 'p',
      baseVersion: 1,
      figures: null,
      checks: [],
      support: null,
      finishedAt: '',
    });
    await s.putOutcome(o('a'));
    await s.putOutcome(o('b'));
    assert.equal((await s.getOutcome('a'))?.cycleId, 'a');
    assert.equal(await s.getOutcome('c'), null);
    assert.deepEqual(
      (await s.recentOutcomes()).map((x) => x.cycleId),
      ['b', 'a'],
    );
  });
});
