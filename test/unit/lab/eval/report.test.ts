import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PreparedExperiment, TrialResult } from '../../../../lab/eval/experiment.js';
import { binaryMetrics } from '../../../../lab/eval/metrics.js';
import { formatTable, summarize } from '../../../../lab/eval/report.js';
import { fitPolicy, REPORT_POLICY } from '../../../../shared/threshold/policy.js';

const prep = {
  dataset: 'toy.csv',
  protocol: { kind: 'inject', variant: 'B' },
  trainRows: 14,
  testRows: 6,
  testLabels: Uint8Array.from([0, 0, 0, 0, 1, 1]),
  injectedRows: 2,
  width: 3,
} as unknown as PreparedExperiment;

function trial(seed: number, predicted: number[], auc: number | null): TrialResult {
  return {
    seed,
    ...binaryMetrics(prep.testLabels, predicted),
    rocAuc: auc,
    threshold: 0.1 * seed,
    percentile: 95,
    policy: fitPolicy(REPORT_POLICY, [0.1 * seed], 'training'),
    fitRows: 14,
    trainSeconds: seed,
    epochs: 3,
    finalLoss: 0.01,
    lossHistory: [0.03, 0.02, 0.01],
    adaptation: null,
    backend: 'cpu',
    profile: 'report',
  };
}

describe('summarize', () => {
  test('one seed: the run’s own figures, std 0', () => {
    const s = summarize(prep, [trial(1, [0, 0, 0, 1, 1, 1], 0.9)], { scale: 'minmax' });
    assert.equal(s.protocol, 'inject B');
    assert.equal(s.rocAuc, 0.9);
    assert.equal(s.std.f1Macro, 0);
    assert.deepEqual(s.confusion, { tn: 3, fp: 1, fn: 0, tp: 2 });
    assert.deepEqual(s.rows, { total: 20, train: 14, test: 6, testAnomalies: 2, injected: 2, features: 3 });
  });

  test('several seeds: means, sample std, mean confusion', () => {
    const a = trial(1, [0, 0, 0, 1, 1, 1], 0.8);
    const b = trial(3, [0, 0, 0, 0, 1, 0], 1);
    const s = summarize(prep, [a, b], {});
    assert.equal(s.f1Macro, (a.f1Macro + b.f1Macro) / 2);
    assert.ok(Math.abs(s.std.rocAuc! - Math.SQRT2 * 0.1) < 1e-12);
    assert.equal(s.trainSeconds, 2);
    assert.deepEqual(s.confusion, { tn: 3.5, fp: 0.5, fn: 0.5, tp: 1.5 });
    assert.deepEqual(s.seeds, [1, 3]);
  });

  test('ROC-AUC undefined in any run is null, not NaN', () => {
    const s = summarize(prep, [trial(1, [0, 0, 0, 0, 0, 0], null), trial(2, [0, 0, 0, 0, 0, 0], 0.5)], {});
    assert.equal(s.rocAuc, null);
    assert.equal(s.std.rocAuc, null);
    assert.doesNotThrow(() => JSON.stringify(s));
  });
});

describe('formatTable', () => {
  test('one line per seed and a mean ± std line', () => {
    const s = summarize(prep, [trial(1, [0, 0, 0, 1, 1, 1], 0.8), trial(2, [0, 0, 0, 0, 1, 1], 1)], {
      scale: 'none',
      epochs: 3,
      adapt: true,
      supportRows: 10,
      percentile: 95,
    });
    const text = formatTable(s);
    assert.match(text, /toy\.csv: inject B, scale none, 3 epochs, adapted on 10 test rows/);
    assert.match(text, /^seed 1 /m);
    assert.match(text, /^seed 2 /m);
    assert.match(text, /^mean ± std .*0\.9000 ± 0\.1414/m);
    assert.match(text, /actual normal\s+3\.5\s+0\.5/);
  });
});
