import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { architectureFor } from '../../../shared/model/architecture.js';
import { SparseAutoencoder } from '../../../shared/model/autoencoder.js';
import { initBackend } from '../../../shared/model/backend.js';
import { DenseForward, meanSquaredErrors } from '../../../shared/model/dense.js';
import { EnsembleScorer, type MemberScoring } from '../../../shared/model/ensemble.js';
import { createRng } from '../../../shared/random.js';
import { tf } from '../../../shared/model/tf.js';

await initBackend({ prefer: 'cpu' });

/** Rows of values in [−1, 2): negative inputs and pre-activations exercise the ReLUs. */
function matrix(rows: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed, 0);
  return Float32Array.from({ length: rows * d }, () => rng.next() * 3 - 1);
}

/** A network with random (non-zero) biases as well as kernels. */
function network(d: number, seed: number): SparseAutoencoder {
  const net = SparseAutoencoder.create(architectureFor(d), seed);
  const rng = createRng(seed, 1);
  const weights = net.getWeights().map((w, i) => (i % 2 === 1 ? w.map(() => rng.next() - 0.5) : w));
  net.dispose();
  return SparseAutoencoder.fromWeights(architectureFor(d), weights);
}

describe('dense inference in plain loops (cpu backend)', () => {
  // d = 130 gives a first layer of 130 inputs: three of the cpu matMul's 48-wide blocks.
  for (const d of [3, 8, 37, 130]) {
    test(`the reconstruction is bit-for-bit tfjs's, ${d} columns`, () => {
      const net = network(d, d);
      try {
        const x = matrix(257, d, 7);
        const loops = new DenseForward(net.architecture, net.getWeights()).run(x, 257);
        assert.deepEqual(loops, net.reconstructRows(x, 257, 'tensors'));
        assert.deepEqual(net.reconstructRows(x, 257), loops); // 'auto' on cpu takes the loops
      } finally {
        net.dispose();
      }
    });
  }

  test("per-row MSE and squared errors are tfjs's mean(squaredDifference(recon, x), 1)", () => {
    const d = 11;
    const recon = matrix(300, d, 1);
    const x = matrix(300, d, 2);
    const squared = new Float32Array(300 * d);
    const mse = meanSquaredErrors(recon, x, 300, d, squared);
    const [refMse, refSq] = tf.tidy(() => {
      const sq = tf.squaredDifference(tf.tensor2d(recon, [300, d]), tf.tensor2d(x, [300, d]));
      return [tf.mean(sq, 1), sq];
    });
    assert.deepEqual(mse, refMse!.dataSync());
    assert.deepEqual(squared, refSq!.dataSync());
    tf.dispose([refMse!, refSq!]);
  });

  test('zero rows give empty outputs', () => {
    const net = network(4, 1);
    assert.equal(net.reconstructRows(new Float32Array(0), 0).length, 0);
    assert.equal(net.reconstructionErrors(new Float32Array(0), 0).mse.length, 0);
    net.dispose();
  });
});

describe('the robust ensemble score in plain loops', () => {
  test('equals the tfjs ops it replaced (sub, div, square, sum, add per member), scores and explanations', () => {
    const d = 9;
    const k = 3;
    const rows = 200;
    const nets = Array.from({ length: k }, (_, m) => network(d, 10 + m));
    const rng = createRng(5, 0);
    const members: MemberScoring[] = nets.map(() => ({
      center: Array.from({ length: d }, () => (rng.next() - 0.5) * 0.1),
      spread: Array.from({ length: d }, () => 0.05 + rng.next()),
      scoreCenter: 0.7 + rng.next(),
      scoreScale: 0.3 + rng.next(),
    }));
    const x = matrix(rows, d, 3);
    try {
      const scorer = new EnsembleScorer(nets, {
        kind: 'robust-residual',
        members,
        calibrationRows: 100,
        reference: 'test',
      });
      const got = scorer.score(x, rows, { perFeature: true });
      // The tensor formulation, as EnsembleScorer computed it before the loops.
      const [total, terms, recon] = tf.tidy(() => {
        const input = tf.tensor2d(x, [rows, d]);
        let t: tf.Tensor = tf.zeros([rows]);
        let te: tf.Tensor = tf.zeros([rows, d]);
        let re: tf.Tensor = tf.zeros([rows, d]);
        nets.forEach((net, m) => {
          const s = members[m]!;
          const xHat = tf.tensor2d(net.reconstructRows(x, rows, 'tensors'), [rows, d]);
          const z = tf.div(tf.sub(tf.sub(input, xHat), s.center), s.spread);
          const z2 = tf.div(tf.square(z), d * s.scoreScale * k);
          t = tf.add(t, tf.sub(tf.sum(z2, 1), s.scoreCenter / (s.scoreScale * k)));
          te = tf.add(te, z2);
          re = tf.add(re, tf.div(xHat, k));
        });
        return [t, te, re];
      });
      assert.deepEqual(got.score, total!.dataSync());
      assert.deepEqual(got.terms, terms!.dataSync());
      assert.deepEqual(got.reconstruction, recon!.dataSync());
      tf.dispose([total!, terms!, recon!]);
    } finally {
      nets.forEach((n) => n.dispose());
    }
  });
});
