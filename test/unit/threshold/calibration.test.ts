import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { withoutContamination } from '../../../shared/threshold/calibration.js';
import { SeededRandom } from '../../../shared/random.js';

/** Log-normal "normal" scores, shifted so some are negative like normalised ensemble scores. */
function normalScores(n: number, seed: number): number[] {
  const r = new SeededRandom(seed);
  return Array.from({ length: n }, () => Math.exp(r.normal(0, 0.6)) - 1.2);
}

describe('withoutContamination', () => {
  test('keeps nearly all of a clean sample (far-out fence: about 0.01 % of a log-normal)', () => {
    const clean = normalScores(20_000, 1);
    const kept = withoutContamination(clean);
    assert.ok(kept.length >= clean.length * 0.998, `kept ${kept.length} of ${clean.length}`);
  });

  test('sets aside anomalies far above the bulk and keeps the normal rows', () => {
    const normal = normalScores(2_000, 2);
    const r = new SeededRandom(3);
    const anomalies = Array.from({ length: 60 }, () => 50 + 100 * r.next());
    const kept = withoutContamination([...normal, ...anomalies]);
    assert.equal(kept.filter((v) => v >= 50).length, 0);
    assert.ok(kept.length >= normal.length * 0.998);
  });

  test('a wide, two-humped lower half does not loosen the fence (scale from the median to the 90th percentile)', () => {
    // Two groups of rows score at different levels (categories), 5 % anomalies three units above them all.
    const r = new SeededRandom(4);
    const normal = Array.from({ length: 950 }, (_, i) => (i % 2 ? -0.9 : 0.2) + 0.15 * r.next());
    const anomalies = Array.from({ length: 50 }, () => 3.3 + 5 * r.next());
    const kept = withoutContamination([...normal, ...anomalies]);
    assert.equal(kept.length, normal.length);
  });

  test('too few or non-finite scores are returned as they are (the policy then says what is wrong)', () => {
    assert.deepEqual(withoutContamination([1, 2, 300]), [1, 2, 300]);
    assert.deepEqual(withoutContamination([1, Number.NaN, 2, 3, 4, 5, 6, 7, 8]).length, 9);
  });
});
