import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { architectureFor } from '../../../shared/model/architecture.js';
import { SparseAutoencoder } from '../../../shared/model/autoencoder.js';
import { tf } from '../../../shared/model/tf.js';
import { lowRankMatrix } from './fixtures.js';

const D = 9;
const ARCH = architectureFor(D);

/** h1 = relu(x·W1 + b1) in float64, from the network's own weights: an independent check of the L1 term. */
function sumAbsH1(net: SparseAutoencoder, x: Float32Array, rows: number): number {
  const [w1, b1] = net.getWeights();
  const units = b1!.length;
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < units; j++) {
      let z = b1![j]!;
      for (let k = 0; k < D; k++) z += x[i * D + k]! * w1![k * units + j]!;
      sum += Math.abs(Math.max(0, z));
    }
  }
  return sum;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('the L1 activity term', () => {
  const rows = 32;
  const x = lowRankMatrix(rows, D, 4);

  test('adds exactly l1 · Σ|h1| / batch to the MSE', () => {
    const net = SparseAutoencoder.create(ARCH, 11);
    try {
      const expected = (1e-5 * sumAbsH1(net, x, rows)) / rows;
      assert.ok(expected > 0, 'the first hidden layer is active');
      const withL1 = net.lossAndGradients(x, rows);
      const without = net.lossAndGradients(x, rows, { l1Activity: 0 });
      assert.equal(without.l1Penalty, 0);
      assert.equal(withL1.mse, without.mse);
      assert.ok(
        Math.abs(withL1.l1Penalty - expected) <= 1e-6 * expected,
        `${withL1.l1Penalty} vs ${expected}`,
      );
      // The loss difference, up to float32 rounding of a loss around 0.1 (ulp ≈ 7e-9).
      assert.ok(
        Math.abs(withL1.loss - without.loss - expected) < 3e-8,
        `${withL1.loss - without.loss} vs ${expected}`,
      );
      // A larger coefficient makes the same check sharper.
      const strong = net.lossAndGradients(x, rows, { l1Activity: 0.01 });
      const strongExpected = (0.01 * sumAbsH1(net, x, rows)) / rows;
      assert.ok(Math.abs(strong.loss - without.loss - strongExpected) < 1e-6 * Math.max(1, strongExpected));
    } finally {
      net.dispose();
    }
  });

  test("changes the gradients of the first layer's kernel and bias, and of nothing else", () => {
    const net = SparseAutoencoder.create(ARCH, 12);
    try {
      const withL1 = net.lossAndGradients(x, rows).gradients;
      const without = net.lossAndGradients(x, rows, { l1Activity: 0 }).gradients;
      assert.ok(maxAbsDiff(withL1[0]!, without[0]!) > 0, 'layer 1 kernel gradient differs');
      assert.ok(maxAbsDiff(withL1[1]!, without[1]!) > 0, 'layer 1 bias gradient differs');
      for (let i = 2; i < withL1.length; i++)
        assert.deepEqual(withL1[i], without[i], `weight tensor ${i} unchanged`);
      // The bias gradient of the penalty is l1/batch per active unit-row: positive, so it pushes activity down.
      let sign = 0;
      for (let j = 0; j < withL1[1]!.length; j++) sign += withL1[1]![j]! - without[1]![j]!;
      assert.ok(sign > 0);
    } finally {
      net.dispose();
    }
  });
});

describe('fit', () => {
  const rows = 256;
  const x = lowRankMatrix(rows, D, 5);

  test('lowers the loss, reports every epoch, includes the last partial batch', async () => {
    const net = SparseAutoencoder.create(ARCH, 1);
    try {
      const seen: number[] = [];
      const res = await net.fit(x, 250, { epochs: 8, batchSize: 32, seed: 1 }, (e) => {
        assert.equal(e.epochs, 8);
        assert.equal(e.steps, 8); // 7 full batches + 1 of 26 rows
        assert.ok(e.seconds >= 0);
        seen.push(e.epoch);
      });
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(res.stepsPerEpoch, 8);
      assert.equal(res.lossHistory.length, 8);
      assert.equal(res.seed, 1);
      assert.ok(res.lossHistory[7]! < res.lossHistory[0]!, `loss ${res.lossHistory.join(' → ')}`);
    } finally {
      net.dispose();
    }
  });

  test('is repeatable with a seed: same seed, same weights; other shuffling seed, other weights', async () => {
    const train = async (initSeed: number, shuffleSeed: number) => {
      const net = SparseAutoencoder.create(ARCH, initSeed);
      try {
        const r = await net.fit(x, rows, { epochs: 3, batchSize: 16, seed: shuffleSeed });
        return { weights: net.getWeights(), loss: r.lossHistory };
      } finally {
        net.dispose();
      }
    };
    const a = await train(42, 42);
    const b = await train(42, 42);
    const c = await train(42, 43);
    assert.deepEqual(a.weights, b.weights);
    assert.deepEqual(a.loss, b.loss);
    assert.notDeepEqual(a.weights, c.weights);
  });

  test('without shuffling, the batch order is the row order (deterministic without a seed)', async () => {
    const run = async () => {
      const net = SparseAutoencoder.create(ARCH, 3);
      await net.fit(x, rows, { epochs: 2, shuffle: false });
      const w = net.getWeights();
      net.dispose();
      return w;
    };
    assert.deepEqual(await run(), await run());
  });

  test('yields to the event loop inside an epoch', async () => {
    const net = SparseAutoencoder.create(ARCH, 2);
    let ran = false;
    let ranBeforeFirstEpochEnded: boolean | null = null;
    setImmediate(() => {
      ran = true;
    });
    try {
      await net.fit(x, rows, { epochs: 1, batchSize: 8, yieldEveryMs: 0, seed: 2 }, () => {
        ranBeforeFirstEpochEnded = ran;
      });
      assert.equal(ranBeforeFirstEpochEnded, true);
    } finally {
      net.dispose();
    }
  });

  test('stops on abort, leaving no tensors behind', async () => {
    const net = SparseAutoencoder.create(ARCH, 2);
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    try {
      await assert.rejects(
        net.fit(x, rows, { epochs: 50, batchSize: 8, yieldEveryMs: 0, signal: ctl.signal }, (e) => {
          if (e.epoch === 2) ctl.abort(new Error('stop here'));
        }),
        /stop here/,
      );
      assert.equal(tf.memory().numTensors, before);
    } finally {
      net.dispose();
    }
  });

  test('refuses a matrix that is too short and a zero batch size', async () => {
    const net = SparseAutoencoder.create(ARCH, 2);
    try {
      await assert.rejects(net.fit(x.subarray(0, 10), 5), RangeError);
      await assert.rejects(net.fit(x, rows, { batchSize: 0 }), RangeError);
    } finally {
      net.dispose();
    }
  });
});

describe('adapt (fresh Adam, full batch, plain MSE)', () => {
  const support = lowRankMatrix(10, D, 77).map((v, i) => (i % D === 2 ? v * 3 : v));

  test('lowers the support-set loss and changes the weights', async () => {
    const net = SparseAutoencoder.create(ARCH, 5);
    await net.fit(lowRankMatrix(256, D, 6), 256, { epochs: 3, seed: 5 });
    try {
      const before = net.getWeights();
      const mseBefore = mean(net.reconstructionErrors(support, 10).mse);
      const r = await net.adapt(support, 10, { steps: 5, learningRate: 1e-3 });
      const mseAfter = mean(net.reconstructionErrors(support, 10).mse);
      assert.ok(Math.abs(r.lossBefore - mseBefore) < 1e-6 * mseBefore, 'lossBefore is the support MSE');
      assert.ok(Math.abs(r.lossAfter - mseAfter) < 1e-6 * mseAfter, 'lossAfter is the support MSE after');
      assert.ok(r.lossAfter < r.lossBefore, `${r.lossAfter} < ${r.lossBefore}`);
      assert.notDeepEqual(net.getWeights(), before);
    } finally {
      net.dispose();
    }
  });

  test("one step follows Keras' Adam: ε added to the uncorrected √v", async () => {
    // Seed 1: every layer is live at initialisation (with zero biases, some seeds start with a dead
    // bottleneck and most gradients at exactly 0 — the fragility REFERENCE.md describes).
    const net = SparseAutoencoder.create(ARCH, 1);
    try {
      const lr = 1e-3;
      const epsilon = 1e-4; // large enough for ε's placement to matter
      const g = net.lossAndGradients(support, 10, { l1Activity: 0 }).gradients;
      const w0 = net.getWeights();
      await net.adapt(support, 10, { steps: 1, learningRate: lr, epsilon });
      const w1 = net.getWeights();
      // Step 1: m = 0.1·g, v = 0.001·g², α = lr·√0.001/0.1  →  Δ = α·m/(√v + ε)
      const s = Math.sqrt(1 - 0.999);
      let keras = 0;
      let tfjs = 0;
      let count = 0;
      w0.forEach((w, t) => {
        for (let i = 0; i < w.length; i++) {
          const gi = g[t]![i]!;
          if (Math.abs(gi) < 1e-6) continue;
          const delta = w1[t]![i]! - w[i]!;
          const kerasDelta = -(lr * gi * s) / (s * Math.abs(gi) + epsilon);
          const tfjsDelta = -(lr * gi) / (Math.abs(gi) + epsilon);
          keras = Math.max(keras, Math.abs(delta - kerasDelta));
          tfjs = Math.max(tfjs, Math.abs(delta - tfjsDelta));
          count++;
        }
      });
      assert.ok(count > 50);
      assert.ok(keras < 2e-7, `max deviation from the Keras update ${keras}`);
      assert.ok(tfjs > 1e-5, `differs from the tfjs update (${tfjs})`);
    } finally {
      net.dispose();
    }
  });

  test('zero steps change nothing', async () => {
    const net = SparseAutoencoder.create(ARCH, 9);
    try {
      const w = net.getWeights();
      const r = await net.adapt(support, 10, { steps: 0 });
      assert.equal(r.lossAfter, r.lossBefore);
      assert.deepEqual(net.getWeights(), w);
    } finally {
      net.dispose();
    }
  });
});

describe('reconstructionErrors', () => {
  test('per-row MSE is the mean of the per-feature squared errors of the reconstruction', () => {
    const net = SparseAutoencoder.create(ARCH, 4);
    const rows = 20;
    const x = lowRankMatrix(rows, D, 8);
    try {
      const r = net.reconstructionErrors(x, rows, { perFeature: true });
      assert.equal(r.mse.length, rows);
      assert.equal(r.squaredErrors!.length, rows * D);
      for (let i = 0; i < rows; i++) {
        let sum = 0;
        for (let j = 0; j < D; j++) {
          const e = (r.reconstruction![i * D + j]! - x[i * D + j]!) ** 2;
          assert.ok(Math.abs(e - r.squaredErrors![i * D + j]!) <= 1e-6 * Math.max(1, e));
          sum += e;
        }
        assert.ok(Math.abs(sum / D - r.mse[i]!) <= 1e-5 * Math.max(1e-3, r.mse[i]!));
      }
      // Scoring one row alone gives the same MSE as scoring it in a batch.
      assert.equal(net.reconstructionErrors(x.subarray(3 * D, 4 * D), 1).mse[0], r.mse[3]);
      assert.equal(net.reconstructionErrors(x, 0).mse.length, 0);
      assert.equal(net.reconstructionErrors(x, rows).squaredErrors, undefined);
    } finally {
      net.dispose();
    }
  });

  test('a clone scores identically and is independent of the original', async () => {
    const net = SparseAutoencoder.create(ARCH, 4);
    const x = lowRankMatrix(30, D, 8);
    const copy = net.clone();
    try {
      assert.deepEqual(copy.reconstructionErrors(x, 30).mse, net.reconstructionErrors(x, 30).mse);
      await copy.adapt(x, 30, { steps: 3 });
      assert.notDeepEqual(copy.getWeights(), net.getWeights());
    } finally {
      net.dispose();
      copy.dispose();
    }
  });
});

describe('memory', () => {
  test('tf.memory().numTensors is flat over repeated fit, adapt, scoring, clone and dispose', async () => {
    const x = lowRankMatrix(128, D, 10);
    const net = SparseAutoencoder.create(ARCH, 1);
    try {
      // Warm up the scoring cache, then measure.
      net.reconstructionErrors(x, 128);
      const baseline = tf.memory().numTensors;
      for (let round = 0; round < 5; round++) {
        await net.fit(x, 128, { epochs: 1, batchSize: 32, seed: round });
        net.reconstructionErrors(x, 128, { perFeature: true });
        await net.adapt(x, 10, { steps: 2 });
        net.reconstructionErrors(x, 1);
        net.lossAndGradients(x, 16);
        net.clone().dispose();
        net.getWeights();
        net.reconstructionErrors(x, 128);
        assert.equal(tf.memory().numTensors, baseline, `round ${round}`);
      }
    } finally {
      net.dispose();
    }
  });

  test('dispose releases every tensor of a network', () => {
    const before = tf.memory().numTensors;
    const net = SparseAutoencoder.create(ARCH, 1);
    net.reconstructionErrors(lowRankMatrix(4, D), 4);
    net.dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.throws(() => net.getWeights(), /after dispose/);
  });
});

function mean(a: Float32Array): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}
