import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, thresholdInterval } from '../../../shared/threshold/percentile.js';

// Expected values printed by numpy 2.4.6: `float(np.percentile(np.array(v, dtype=np.float64), p))`.
const NUMPY_CASES: [number[], number, number][] = [
  [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 9.549999999999999],
  [[3, 1, 2], 50, 2.0],
  [[1, 2], 0, 1.0],
  [[1, 2], 100, 2.0],
  [[5], 37, 5.0],
  [[0.1, 0.7, 0.2, 0.9, 0.4], 95, 0.86],
  [[0.1, 0.7, 0.2, 0.9, 0.4], 33.3, 0.26639999999999997],
  [[2.5, -1, 7, 3.25, 0, 11, -4.75], 12.5, -1.9375],
  [[1e-3, 2e-3, 5e-1, 3e-4], 99, 0.4850599999999999],
  [[4, 4, 4, 4], 80, 4.0],
];

// np.random.default_rng(3).random(101) and np.percentile of it.
const RANDOM_101 = [
  0.08564916714362436, 0.2368105065960997, 0.8012744652063969, 0.5821620360643678, 0.09412864224039919,
  0.4331269402364738, 0.479051298140834, 0.15973891463707857, 0.7345771514092145, 0.11367201992140341,
  0.39122819049566204, 0.5167401826213637, 0.4306280204141778, 0.5867985714381407, 0.7378377872921602,
  0.9562672548360985, 0.28420116374879145, 0.648547207079825, 0.6962159966701554, 0.2927207490124871,
  0.0014900835088361708, 0.9734602747664127, 0.29840122301687566, 0.3139860020343368, 0.8917110704451572,
  0.5851629398909081, 0.47130966518183137, 0.7732770096488164, 0.030346007662471197, 0.7069650956556235,
  0.3742438334784708, 0.09085271350425783, 0.6605000674278948, 0.9314638547413545, 0.20719116808100124,
  0.630090199785343, 0.29816309065742475, 0.7417566800693304, 0.7221648081421175, 0.21871542456880455,
  0.8298868742743123, 0.6576522108732432, 0.6827989078603502, 0.820075750170535, 0.42857290429846195,
  0.758705461154919, 0.8784801846662539, 0.1023199219220744, 0.8497683374661538, 0.39392733263233515,
  0.47968392351227496, 0.14633456975819847, 0.6984263449470935, 0.291978615987851, 0.8711391497935891,
  0.2753743769480771, 0.5618097187308899, 0.39965622113045274, 0.6129094919024392, 0.19663923977212372,
  0.18028754084309517, 0.7468603856498379, 0.7522234183692774, 0.5669778744529123, 0.9210796772829299,
  0.20577504822901882, 0.8509011245916515, 0.16898731132708622, 0.9643577208942796, 0.6236927281061517,
  0.6068837880100147, 0.9705587631326238, 0.787032713788771, 0.7899174760885543, 0.054093757870965264,
  0.3692863060944199, 0.08489477216546804, 0.1935275814655144, 0.2138669906921472, 0.8586419321659043,
  0.1267549797183054, 0.29675776838944945, 0.4928469789243326, 0.8494604111895369, 0.9652314208373755,
  0.7081447706872417, 0.21368721943054814, 0.5449826814580041, 0.7059590429868869, 0.05188252772662516,
  0.6798841672240714, 0.3682818351390811, 0.5897002867792083, 0.6695332811416651, 0.6691274961459358,
  0.5230497755258564, 0.5547374324650892, 0.19814971361353295, 0.49518739153540214, 0.12540947264525315,
  0.48074700192606445,
];
const RANDOM_101_PERCENTILES: [number, number][] = [
  [0, 0.0014900835088361708],
  [1, 0.030346007662471197],
  [5, 0.08564916714362436],
  [50, 0.5449826814580041],
  [90, 0.8586419321659043],
  [95, 0.9314638547413545],
  [97.5, 0.9647945708658275],
  [99, 0.9705587631326238],
  [99.9, 0.9731701236030339],
  [100, 0.9734602747664127],
];

describe('percentile (numpy linear interpolation)', () => {
  for (const [values, p, expected] of NUMPY_CASES) {
    test(`np.percentile(${JSON.stringify(values)}, ${p}) = ${expected}`, () => {
      assert.equal(percentile(values, p), expected);
    });
  }

  test('101 random values, ten percentiles, bit-exact', () => {
    for (const [p, expected] of RANDOM_101_PERCENTILES)
      assert.equal(percentile(RANDOM_101, p), expected, `p=${p}`);
  });

  test('p=100 is the maximum and p=0 the minimum, whatever the order', () => {
    const v = Float32Array.from([0.5, 3, -2, 9, 1]);
    assert.equal(percentile(v, 100), 9);
    assert.equal(percentile(v, 0), -2);
  });

  test('does not reorder its input', () => {
    const v = [3, 1, 2];
    percentile(v, 50);
    assert.deepEqual(v, [3, 1, 2]);
  });

  test('NaN in the input gives NaN, as numpy does', () => {
    assert.ok(Number.isNaN(percentile([1, Number.NaN, 3], 50)));
  });

  test('refuses empty input and p outside [0, 100]', () => {
    assert.throws(() => percentile([], 50), RangeError);
    assert.throws(() => percentile([1, 2], -1), RangeError);
    assert.throws(() => percentile([1, 2], 100.5), RangeError);
    assert.throws(() => percentile([1, 2], Number.NaN), RangeError);
  });
});

describe('thresholdInterval (sampling interval of a refitted threshold)', () => {
  // Scores 0, 1, …, 999 in shuffled order: the rank of a score is the score itself.
  const scores = Array.from({ length: 1000 }, (_, i) => (i * 389) % 1000);

  test('δ = ⌈1.96 √(n p (1 − p))⌉ ranks either side of the threshold, p = (r + 1) / (n + 1)', () => {
    // 9 scores above 990: p = 10 / 1001, δ = ⌈1.96 · √(1000 · 0.00999 · 0.99001)⌉ = ⌈6.16⌉ = 7.
    assert.deepEqual(thresholdInterval(scores, 990), [983, 997]);
    // At the median, p = 500 / 1001: δ = ⌈1.96 · √250.0⌉ = ⌈30.99⌉ = 31.
    assert.deepEqual(thresholdInterval(scores, 500), [469, 531]);
  });

  test('the interval narrows as the sample grows: four times the rows, half the relative width', () => {
    const big = Array.from({ length: 4000 }, (_, i) => ((i * 389) % 4000) / 4);
    const w = (s: number[]): number => {
      const [low, high] = thresholdInterval(s, 990);
      return high - low;
    };
    assert.ok(Math.abs(w(big) / w(scores) - 0.5) < 0.1, `${w(big)} vs ${w(scores)}`);
  });

  test('it always contains the threshold, clamps at the ends and ignores NaN', () => {
    // Above every score: p = 1 / 1001, δ = ⌈1.96 · √0.999⌉ = 2 ranks below the largest.
    assert.deepEqual(thresholdInterval(scores, 5000), [997, 5000]);
    assert.deepEqual(thresholdInterval(scores, -1), [-1, 0]);
    assert.deepEqual(thresholdInterval([], 3), [3, 3]);
    assert.deepEqual(thresholdInterval([Number.NaN, ...scores], 990), [983, 997]);
  });
});
