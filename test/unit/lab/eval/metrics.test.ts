import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryMetrics, confusionMatrix, meanStd, rocAuc } from '../../../../lab/eval/metrics.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

describe('binary metrics', () => {
  // y:    0 0 0 0 0 0 1 1 1 1
  // pred: 0 0 0 0 1 1 1 1 1 0  -> tn 4, fp 2, tp 3, fn 1
  const y = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
  const p = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0];

  test('confusion matrix', () => {
    assert.deepEqual(confusionMatrix(y, p), { tn: 4, fp: 2, fn: 1, tp: 3 });
  });

  test('macro F1, recall and precision match hand computation (sklearn average="macro")', () => {
    const m = binaryMetrics(y, p);
    // class 1: P = 3/5, R = 3/4, F1 = 2·0.6·0.75/1.35 = 2/3
    // class 0: P = 4/5, R = 4/6, F1 = 2·0.8·(2/3)/(0.8+2/3) = 8/11
    close(m.perClass.anomaly.precision, 0.6);
    close(m.perClass.anomaly.recall, 0.75);
    close(m.perClass.anomaly.f1, 2 / 3);
    close(m.perClass.normal.precision, 0.8);
    close(m.perClass.normal.recall, 4 / 6);
    close(m.perClass.normal.f1, 8 / 11);
    close(m.f1Macro, (2 / 3 + 8 / 11) / 2);
    close(m.recallMacro, (0.75 + 4 / 6) / 2);
    close(m.precisionMacro, (0.6 + 0.8) / 2);
    close(m.flaggedShare, 0.5);
    close(m.anomalyShare, 0.4);
  });

  test('the protocol ceiling: perfect recall with 5 % of normals flagged', () => {
    // 85 normal rows (about 5 % flagged: 4), 15 anomalies all flagged.
    const yy = [...new Array<number>(85).fill(0), ...new Array<number>(15).fill(1)];
    const pp = [
      ...new Array<number>(81).fill(0),
      ...new Array<number>(4).fill(1),
      ...new Array<number>(15).fill(1),
    ];
    const m = binaryMetrics(yy, pp);
    close(m.recallMacro, (81 / 85 + 1) / 2);
    const f1Anom = (2 * (15 / 19)) / (15 / 19 + 1);
    const f1Norm = (2 * (81 / 85)) / (81 / 85 + 1);
    close(m.f1Macro, (f1Anom + f1Norm) / 2);
  });

  test('a class never predicted gets precision 0 (zero_division=0), not NaN', () => {
    const m = binaryMetrics([0, 0, 1, 1], [0, 0, 0, 0]);
    assert.equal(m.perClass.anomaly.precision, 0);
    assert.equal(m.perClass.anomaly.f1, 0);
    close(m.recallMacro, 0.5);
    close(m.f1Macro, (2 * (0.5 * 1)) / 1.5 / 2);
  });

  test('length mismatch is an error', () => {
    assert.throws(() => binaryMetrics([0, 1], [0]), RangeError);
  });
});

describe('rocAuc', () => {
  test('perfect and inverted rankings', () => {
    assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
    assert.equal(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0);
  });

  test('a hand-computed case: 3 of 4 positive-negative pairs ordered right', () => {
    // pos scores 0.8, 0.35; neg 0.4, 0.1 -> pairs: (0.8>0.4) (0.8>0.1) (0.35<0.4) (0.35>0.1) = 3/4
    assert.equal(rocAuc([1, 0, 1, 0], [0.8, 0.4, 0.35, 0.1]), 0.75);
  });

  test('ties count one half', () => {
    assert.equal(rocAuc([0, 1], [0.5, 0.5]), 0.5);
    // pos {0.5, 0.9}, neg {0.5, 0.1}: pairs (0.5=0.5 -> .5) (0.5>0.1) (0.9>0.5) (0.9>0.1) = 3.5/4
    assert.equal(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1]), 0.875);
    // all scores equal: 0.5 whatever the labels
    assert.equal(rocAuc([1, 0, 0, 1, 0], [2, 2, 2, 2, 2]), 0.5);
  });

  test('matches the pairwise definition on a random case', () => {
    let s = 1;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    const y: number[] = [];
    const sc: number[] = [];
    for (let i = 0; i < 300; i++) {
      y.push(rnd() < 0.3 ? 1 : 0);
      sc.push(Math.round(rnd() * 20) / 20); // many ties
    }
    let num = 0;
    let pairs = 0;
    for (let i = 0; i < y.length; i++)
      for (let j = 0; j < y.length; j++)
        if (y[i] === 1 && y[j] === 0) {
          pairs++;
          num += sc[i]! > sc[j]! ? 1 : sc[i] === sc[j] ? 0.5 : 0;
        }
    close(rocAuc(y, sc)!, num / pairs, 1e-12);
  });

  test('one class only gives null', () => {
    assert.equal(rocAuc([0, 0, 0], [1, 2, 3]), null);
    assert.equal(rocAuc([1, 1], [1, 2]), null);
  });
});

describe('meanStd', () => {
  test('sample standard deviation', () => {
    const { mean, std } = meanStd([1, 2, 3, 4]);
    close(mean, 2.5);
    close(std, Math.sqrt(5 / 3));
    assert.deepEqual(meanStd([3]), { mean: 3, std: 0 });
  });
});
