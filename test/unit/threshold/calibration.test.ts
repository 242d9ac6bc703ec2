import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterStart, withoutContamination } from '../../../shared/threshold/calibration.js';
import { ConformalPolicy } from '../../../shared/threshold/conformal.js';
import { exponential, pareto } from './samples.js';
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

  test('a clump of anomalies inside the fence is set aside from where it starts (the first cluster)', () => {
    // 7 % anomalies at 3.6–6.4 units of the scale above the median, inside the 8× fence, as a hump of their
    // own (the normal 99th percentile is at 2.1 units). The rule sets aside from the lower edge of the bin
    // where the rise shows (3.16 here): a clump starting inside the bin below keeps its part under that edge.
    const normal = normalScores(5_000, 5);
    const r = new SeededRandom(6);
    const anomalies = Array.from({ length: 380 }, () => 5 + 4 * r.next());
    const kept = withoutContamination([...normal, ...anomalies]);
    const isAnomaly = new Set(anomalies);
    const keptAnomalies = kept.filter((v) => isAnomaly.has(v)).length;
    assert.equal(keptAnomalies, 0, `${keptAnomalies} anomalies kept`);
    assert.ok(kept.length >= normal.length * 0.995, `kept ${kept.length} of ${normal.length} normal`);
    // Without the rule, the 8× fence alone keeps them all.
    const fenceOnly = withoutContamination([...normal, ...anomalies], { clusters: false });
    assert.equal(fenceOnly.filter((v) => isAnomaly.has(v)).length, anomalies.length);
  });

  test('the conformal rate on the normal rows then stays near its 1 % target (7 % clustered anomalies)', () => {
    const normal = normalScores(5_000, 7);
    const r = new SeededRandom(8);
    const anomalies = Array.from({ length: 380 }, () => 5 + 4 * r.next());
    const fresh = normalScores(20_000, 9);
    const rate = (scores: number[]): number => {
      const policy = ConformalPolicy.fit({ alpha: 0.01 }, scores, 'test', { clean: true });
      return fresh.filter((v) => policy.classify(v).flagged).length / fresh.length;
    };
    // The cluster starts at a bin's lower edge, where the normal tail still has a few rows: a little above α.
    const withRule = rate(withoutContamination([...normal, ...anomalies]));
    assert.ok(withRule > 0.005 && withRule < 0.02, `FPR ${(withRule * 100).toFixed(2)} %`);
    // With the fence alone the threshold sits among the anomalies and the rate collapses.
    const fenceOnly = rate(withoutContamination([...normal, ...anomalies], { clusters: false }));
    assert.ok(fenceOnly < 0.001, `FPR ${(fenceOnly * 100).toFixed(2)} %`);
  });

  test('no cluster in clean tails, however long: exponential, log-normal, Pareto with ξ = 1', () => {
    for (const sample of [
      exponential(20_000, 10),
      Float64Array.from(normalScores(20_000, 11)),
      pareto(20_000, 1, 12),
    ]) {
      const sorted = Float64Array.from(sample).sort();
      const at = (p: number): number => sorted[Math.floor(p * (sorted.length - 1))]!;
      assert.equal(clusterStart(sorted, at(0.5), at(0.9) - at(0.5), 8), Number.POSITIVE_INFINITY);
    }
  });

  test('a clump smaller than 0.5 % of the scores is not a cluster', () => {
    const normal = normalScores(5_000, 13);
    const r = new SeededRandom(14);
    const few = Array.from({ length: 20 }, () => 3 + 4 * r.next());
    const kept = new Set(withoutContamination([...normal, ...few]));
    assert.ok(few.every((v) => kept.has(v)));
  });
});
