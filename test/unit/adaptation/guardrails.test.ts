import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADAPTATION_DEFAULTS } from '../../../shared/adaptation/config.js';
import {
  checkModelMove,
  checkWindow,
  ratioMove,
  ratioMoveToInterval,
  refusalReasons,
  relativeL2,
  type ModelMoveFigures,
} from '../../../shared/adaptation/guardrails.js';

const bounds = ADAPTATION_DEFAULTS.guardrails;

describe('window guardrails', () => {
  const ok = { windowRows: 1000, supportRows: 300, referenceRows: 900, flaggedShare: 0.2, newRows: 1000 };

  test('a healthy window passes', () => {
    assert.deepEqual(refusalReasons(checkWindow(ok, bounds, 100)), []);
  });

  test('too few rows in the window, the support set or the reference', () => {
    assert.deepEqual(refusalReasons(checkWindow({ ...ok, windowRows: 10 }, bounds, 100)), ['too-few-rows']);
    assert.deepEqual(refusalReasons(checkWindow({ ...ok, supportRows: 0 }, bounds, 100)), ['too-few-rows']);
    assert.deepEqual(refusalReasons(checkWindow({ ...ok, referenceRows: 50 }, bounds, 100)), [
      'too-few-rows',
    ]);
  });

  test('a window with (almost) nothing new since the last adaptation is stale', () => {
    const checks = checkWindow({ ...ok, newRows: 3 }, bounds, 100);
    assert.deepEqual(refusalReasons(checks), ['stale-window']);
    assert.equal(checks.find((c) => !c.passed)?.name, 'new-rows');
  });

  test('a window the model mostly flags is refused as an incident', () => {
    const checks = checkWindow({ ...ok, flaggedShare: 0.9 }, bounds, 100);
    assert.deepEqual(refusalReasons(checks), ['flagged-share']);
    const c = checks.find((x) => x.reason === 'flagged-share')!;
    assert.equal(c.value, 0.9);
    assert.equal(c.bound, bounds.maxFlaggedShare);
  });
});

describe('model-move guardrails', () => {
  const ok: ModelMoveFigures = {
    thresholdBefore: 1,
    thresholdAfter: 1.1,
    anchorThreshold: 1,
    thresholdStep: 0.1,
    weightStep: 0.01,
    thresholdDrift: 0.1,
    weightDrift: 0.05,
    goldenRecall: 1,
    lossAfter: 0.1,
  };

  test('a small move passes', () => {
    assert.deepEqual(refusalReasons(checkModelMove(ok, bounds)), []);
  });

  test('each bound refuses with its own reason', () => {
    const cases: [Partial<ModelMoveFigures>, string][] = [
      [{ thresholdStep: bounds.maxThresholdStep * 2 }, 'threshold-step'],
      [{ weightStep: bounds.maxWeightStep * 2 }, 'weight-step'],
      [{ thresholdDrift: bounds.maxThresholdDrift * 2 }, 'threshold-drift'],
      [{ weightDrift: bounds.maxWeightDrift * 2 }, 'weight-drift'],
      [{ goldenRecall: bounds.minGoldenRecall / 2 }, 'golden-recall'],
      [{ lossAfter: Number.NaN }, 'non-finite'],
      [{ thresholdAfter: Number.POSITIVE_INFINITY }, 'non-finite'],
    ];
    for (const [patch, reason] of cases) {
      assert.deepEqual(refusalReasons(checkModelMove({ ...ok, ...patch }, bounds)), [reason], reason);
    }
  });

  test('Infinity switches a bound off', () => {
    const off = { ...bounds, maxWeightDrift: Number.POSITIVE_INFINITY };
    assert.deepEqual(refusalReasons(checkModelMove({ ...ok, weightDrift: 50 }, off)), []);
  });
});

describe('measures', () => {
  test('ratioMoveToInterval: 0 inside the interval, the ratio to its nearer end outside', () => {
    assert.equal(ratioMoveToInterval(0.8, 1.4, 1), 0);
    assert.equal(ratioMoveToInterval(0.8, 1.4, 0.8), 0);
    // The parent at 2: the refit could have given up to 1.4, so the move is 2 / 1.4 − 1, not 2 / 1 − 1.
    assert.ok(Math.abs(ratioMoveToInterval(0.8, 1.4, 2) - (2 / 1.4 - 1)) < 1e-12);
    assert.ok(Math.abs(ratioMoveToInterval(0.8, 1.4, 0.5) - (0.8 / 0.5 - 1)) < 1e-12);
    // A degenerate interval is the point estimate.
    assert.equal(ratioMoveToInterval(1.5, 1.5, 1), ratioMove(1.5, 1));
  });

  test('ratioMove is symmetric and 0 for no move', () => {
    assert.equal(ratioMove(2, 2), 0);
    assert.equal(ratioMove(2, 1), 1);
    assert.equal(ratioMove(1, 2), 1);
    assert.equal(ratioMove(0, 1), Number.POSITIVE_INFINITY);
  });

  test('relativeL2 is the norm of the difference over the reference norm', () => {
    const ref = [Float32Array.from([3, 0]), Float32Array.from([4])];
    assert.equal(relativeL2(ref, ref), 0);
    const moved = [Float32Array.from([3, 0]), Float32Array.from([4.5])];
    assert.ok(Math.abs(relativeL2(moved, ref) - 0.1) < 1e-7);
    assert.equal(relativeL2([Float32Array.from([1])], ref), Number.POSITIVE_INFINITY);
  });
});
