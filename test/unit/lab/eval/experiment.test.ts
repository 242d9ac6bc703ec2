/**
 * The experiment's order of operations: split, scaler fitted on the training part only, injection in
 * the scaled space of the test part, support rows from the injected test part, threshold from the
 * training MSE. Trains tiny models (a few epochs on a few hundred rows).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataRow } from '../../../../shared/data/csv.js';
import { prepareExperiment, runTrial, type ExperimentData } from '../../../../lab/eval/experiment.js';
import { Rng } from '../../../../lab/eval/rng.js';
import { take, trainTestSplit } from '../../../../lab/eval/split.js';
import { percentile } from '../../../../shared/threshold/percentile.js';

/** Rows on a 2-dimensional latent structure in 6 columns, plus a little noise. */
function synthetic(n: number, seed = 3): ExperimentData {
  const rng = new Rng(seed);
  const rows: DataRow[] = [];
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.uniform(0, 1);
    const b = rng.uniform(0, 1);
    const noise = () => rng.uniform(-0.01, 0.01);
    rows.push({
      x1: 10 * a + noise(),
      x2: 5 * b + noise(),
      x3: a + b + noise(),
      x4: 2 * a - b + noise(),
      x5: 100 + 50 * b + noise(),
      x6: a * 3 + noise(),
    });
    labels[i] = i % 20 === 0 ? 1 : 0;
  }
  const columns = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6'];
  return { dataset: 'synthetic', columns, numericColumns: columns, rows, labels };
}

describe('prepareExperiment', () => {
  test('the scaler is fitted on the training split only', () => {
    const data = synthetic(400);
    const split = trainTestSplit(400, 0.3, 42);
    // Put the global extremes of x1 in test rows: a scaler fitted on all rows would see them.
    (data.rows[split.test[0]!] as DataRow).x1 = -1000;
    (data.rows[split.test[1]!] as DataRow).x1 = 1000;
    const prep = prepareExperiment(data, { protocol: { kind: 'inject', variant: 'A' }, scale: 'minmax' });
    const trainX1 = take(data.rows, split.train).map((r) => r.x1 as number);
    const lo = Math.min(...trainX1);
    const hi = Math.max(...trainX1);
    // Every training value of x1 maps into [0, 1], the min to 0 and the max to 1.
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < prep.trainRows; r++) {
      const v = prep.train[r * prep.width]!;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.ok(Math.abs(min) < 1e-6 && Math.abs(max - 1) < 1e-6, `train x1 spans [${min}, ${max}]`);
    assert.ok(Math.abs(prep.preprocessor.inverseColumn(0, 0) - lo) < 1e-6 * Math.abs(lo) + 1e-9);
    assert.ok(Math.abs(prep.preprocessor.inverseColumn(0, 1) - hi) < 1e-6 * Math.abs(hi) + 1e-9);
  });

  test('injection alters 15 % of the scaled test rows, in the scaled space', () => {
    const data = synthetic(1000);
    const prep = prepareExperiment(data, { protocol: { kind: 'inject', variant: 'A' }, scale: 'minmax' });
    assert.equal(prep.trainRows, 700);
    assert.equal(prep.testRows, 300);
    assert.equal(prep.injectedRows, 45);
    assert.equal(
      prep.testLabels.reduce((s, v) => s + v, 0),
      45,
    );
    const split = trainTestSplit(1000, 0.3, 42);
    const clean = prep.preprocessor.transform(take(data.rows, split.test));
    for (let r = 0; r < prep.testRows; r++) {
      const changed: number[] = [];
      for (let c = 0; c < prep.width; c++) {
        const a = clean[r * prep.width + c]!;
        const b = prep.test[r * prep.width + c]!;
        if (a !== b) {
          changed.push(c);
          const ratio = b / a;
          assert.ok(ratio >= 6 - 1e-3 && ratio < 30 + 1e-3, `scaled value multiplied by ${ratio}`);
        }
      }
      // A scaled value of exactly 0 stays 0 (the report's multiplicative injection), hence "at most".
      if (prep.testLabels[r]) assert.ok(changed.length <= 2 && changed.length >= 1);
      else assert.equal(changed.length, 0);
    }
  });

  test('the support set is 10 rows of the injected test part', () => {
    const prep = prepareExperiment(synthetic(500), {
      protocol: { kind: 'inject', variant: 'B' },
      scale: 'standard',
    });
    assert.equal(prep.supportIndex.length, 10);
    assert.equal(new Set(prep.supportIndex).size, 10);
    prep.supportIndex.forEach((r, i) => {
      assert.deepEqual(
        prep.support.subarray(i * prep.width, (i + 1) * prep.width),
        prep.test.subarray(r * prep.width, (r + 1) * prep.width),
      );
    });
  });

  test('with real labels nothing is injected and the test labels are the file’s', () => {
    const data = synthetic(400);
    const prep = prepareExperiment(data, { protocol: { kind: 'labels' }, scale: 'none' });
    const split = trainTestSplit(400, 0.3, 42);
    assert.equal(prep.injectedRows, 0);
    assert.deepEqual(
      [...prep.testLabels],
      [...split.test].map((i) => data.labels![i]),
    );
    assert.deepEqual(prep.test, prep.preprocessor.transform(take(data.rows, split.test)));
  });

  test('is deterministic for a split seed', () => {
    const a = prepareExperiment(synthetic(300), {
      protocol: { kind: 'inject', variant: 'A' },
      scale: 'minmax',
    });
    const b = prepareExperiment(synthetic(300), {
      protocol: { kind: 'inject', variant: 'A' },
      scale: 'minmax',
    });
    const c = prepareExperiment(synthetic(300), {
      protocol: { kind: 'inject', variant: 'A' },
      scale: 'minmax',
      splitSeed: 7,
    });
    assert.deepEqual(a.test, b.test);
    assert.deepEqual(a.supportIndex, b.supportIndex);
    assert.notDeepEqual(a.testLabels, c.testLabels);
  });
});

describe('runTrial', () => {
  const prep = prepareExperiment(synthetic(600), {
    protocol: { kind: 'inject', variant: 'A' },
    scale: 'minmax',
  });

  test('thresholds at the percentile of the training MSE and reports the metrics', async () => {
    const r = await runTrial(prep, { seed: 1, epochs: 3, keepNetwork: true });
    try {
      const trainMse = r.network!.reconstructionErrors(prep.train, prep.trainRows).mse;
      assert.equal(r.threshold, percentile(trainMse, 95));
      for (const k of ['f1Macro', 'recallMacro', 'precisionMacro', 'flaggedShare'] as const) {
        assert.ok(r[k] >= 0 && r[k] <= 1, `${k} = ${r[k]}`);
      }
      assert.ok(r.rocAuc !== null && r.rocAuc >= 0 && r.rocAuc <= 1);
      const c = r.confusion;
      assert.equal(c.tn + c.fp + c.fn + c.tp, prep.testRows);
      assert.equal(c.fn + c.tp, 27);
      assert.equal(r.lossHistory.length, 3);
      assert.ok(r.adaptation !== null && r.adaptation.supportRows === 10 && r.adaptation.steps === 5);
    } finally {
      r.network?.dispose();
    }
  });

  test('the same seed repeats a run; --no-adapt skips adaptation', async () => {
    const a = await runTrial(prep, { seed: 5, epochs: 2 });
    const b = await runTrial(prep, { seed: 5, epochs: 2 });
    assert.equal(a.threshold, b.threshold);
    assert.deepEqual(a.confusion, b.confusion);
    const c = await runTrial(prep, { seed: 5, epochs: 2, adapt: false });
    assert.equal(c.adaptation, null);
    assert.notEqual(c.threshold, a.threshold);
  });
});
