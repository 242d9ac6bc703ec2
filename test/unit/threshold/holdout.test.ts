import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationSplit } from '../../../shared/threshold/holdout.js';
import { calibrationRowsFor } from '../../../shared/threshold/policy.js';

describe('calibrationSplit', () => {
  test('holds out round(n · fraction) rows, disjoint from the rows to fit on, the same for the same seed', () => {
    const s = calibrationSplit(1000, 0.2, 7);
    assert.equal(s.calibration.length, 200);
    assert.equal(s.fit.length, 800);
    const seen = new Set([...s.calibration, ...s.fit]);
    assert.equal(seen.size, 1000);
    assert.deepEqual(calibrationSplit(1000, 0.2, 7), s);
  });

  test('a minimum below round(n · fraction) changes nothing', () => {
    assert.deepEqual(calibrationSplit(1000, 0.2, 7, 109), calibrationSplit(1000, 0.2, 7));
  });

  test('a small table holds out the minimum, the usual rows among them', () => {
    const plain = calibrationSplit(300, 0.2, 3);
    const s = calibrationSplit(300, 0.2, 3, 109);
    assert.equal(plain.calibration.length, 60);
    assert.equal(s.calibration.length, 109);
    assert.equal(s.fit.length, 191);
    const held = new Set(s.calibration);
    for (const i of plain.calibration) assert.ok(held.has(i), `row ${i} is still held out`);
  });

  test('never more than half the rows: the rest are needed to fit on', () => {
    const s = calibrationSplit(150, 0.2, 3, 109);
    assert.equal(s.calibration.length, 75);
    assert.equal(s.fit.length, 75);
  });
});

describe('calibrationRowsFor', () => {
  test('conformal needs ⌈1/α⌉ − 1 scores and a tenth more; percentile and spot fit on any number', () => {
    assert.equal(calibrationRowsFor({ kind: 'conformal', params: { alpha: 0.01 } }), 109);
    assert.equal(calibrationRowsFor({ kind: 'conformal', params: { alpha: 0.05 } }), 21);
    assert.equal(calibrationRowsFor({ kind: 'percentile', params: { percentile: 95 } }), 0);
    assert.equal(calibrationRowsFor({ kind: 'spot', params: { q: 0.01 } }), 0);
  });
});
