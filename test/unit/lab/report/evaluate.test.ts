import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createObservations, measure, segmentMetrics, windowsOf } from '../../../../lab/report/evaluate.js';
import { parseRunResults } from '../../../../lab/report/results.js';
import { fixtureResults } from './fixture.js';

/** 100 records: phase 0 then 1; every 10th an anomaly (A then B alternately); flags on 8 anomalies + 2 normals. */
function sample() {
  const o = createObservations(100, ['stable', 'abrupt']);
  o.originMs = 1_000_000;
  for (let i = 0; i < 100; i++) {
    o.phase[i] = i < 50 ? 0 : 1;
    o.sentAt[i] = o.originMs + i * 10;
    o.scoredAt[i] = o.sentAt[i]! + 20 + (i % 5);
    o.version[i] = i < 60 ? 1 : 2;
    if (i % 10 === 0) {
      o.label[i] = 1;
      o.variant[i] = (i / 10) % 2 === 0 ? 1 : 2;
      o.score[i] = 1 + i;
      o.flagged[i] = i < 80 ? 1 : 0;
    } else {
      o.score[i] = 0.01 * (1 + (i % 7));
      if (i === 55 || i === 57) o.flagged[i] = 1;
    }
  }
  return o;
}

describe('evaluate', () => {
  test('segment metrics from flags against labels', () => {
    const o = sample();
    const m = segmentMetrics(
      o,
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual([m.records, m.anomalies, m.flagged, m.tp, m.fp, m.fn, m.tn], [100, 10, 10, 8, 2, 2, 88]);
    assert.equal(m.recall, 0.8);
    assert.equal(m.precision, 0.8);
    assert.ok(Math.abs(m.fpr - 2 / 90) < 1e-12);
    assert.equal(m.rocAuc, 1, 'anomalies all score above normals');
  });

  test('unscored records are left out of the metrics and counted', () => {
    const o = sample();
    o.scoredAt[3] = NaN;
    o.score[3] = NaN;
    o.deadLettered[4] = 1;
    o.scoredAt[4] = NaN;
    const r = measure(o);
    assert.equal(r.metrics.overall.records, 98);
    assert.equal(r.counts.unscored, 1);
    assert.equal(r.counts.deadLetters, 1);
    assert.equal(r.counts.scored, 98);
  });

  test('per phase, per variant, windows, latency and histogram', () => {
    const r = measure(sample(), { windows: 4 });
    assert.deepEqual(Object.keys(r.metrics.perPhase), ['stable', 'abrupt']);
    assert.equal(r.metrics.perPhase.stable!.fp, 0);
    assert.equal(r.metrics.perPhase.abrupt!.fp, 2);
    assert.deepEqual(r.metrics.perVariant.A, { anomalies: 5, flagged: 4, recall: 0.8 });
    assert.equal(r.windows.length, 4);
    assert.deepEqual(
      r.windows.map((w) => [w.phase, w.records, w.anomalies, w.modelVersion]),
      [
        ['stable', 25, 3, 1],
        ['stable', 25, 2, 1],
        ['abrupt', 25, 3, 2],
        ['abrupt', 25, 2, 2],
      ],
    );
    assert.equal(r.windows[0]!.startMs, 0);
    assert.equal(r.windows[3]!.endMs, 990);
    assert.equal(r.latencyMs.p50, 22);
    assert.equal(r.latencyMs.max, 24);
    const binned = r.scores.bins.reduce((s, b) => s + b.normal + b.anomaly, 0);
    assert.equal(binned, 100);
    assert.equal(
      r.scores.bins.reduce((s, b) => s + b.anomaly, 0),
      10,
    );
    // What measure() produces fits the results contract.
    parseRunResults({ ...fixtureResults(), ...r });
  });

  test('windows never outnumber records', () => {
    assert.equal(windowsOf(sample(), 1000).length, 100);
  });
});
