import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { architectureFor } from '../../../shared/model/architecture.js';
import { SparseAutoencoder } from '../../../shared/model/autoencoder.js';
import { initBackend } from '../../../shared/model/backend.js';
import { createRng } from '../../../shared/random.js';

await initBackend({ prefer: 'cpu' });

/** Rows of values in [−1, 2): negative inputs and pre-activations exercise the ReLUs. */
function matrix(rows: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed, 0);
  return Float32Array.from({ length: rows * d }, () => rng.next() * 3 - 1);
}

/** The largest |a − b| over every weight, relative to the largest |b|. */
function maxRelativeGap(a: Float32Array[], b: Float32Array[]): number {
  let gap = 0;
  let scale = 0;
  a.forEach((w, t) => {
    for (let i = 0; i < w.length; i++) {
      gap = Math.max(gap, Math.abs(w[i]! - b[t]![i]!));
      scale = Math.max(scale, Math.abs(b[t]![i]!));
    }
  });
  return gap / scale;
}

describe('rapid adaptation in plain loops (cpu backend)', () => {
  for (const d of [3, 9, 40]) {
    test(`30 steps on 512 rows give the tensor path's weights and losses, ${d} columns`, async () => {
      const x = matrix(512, d, d);
      const loops = SparseAutoencoder.create(architectureFor(d), 11);
      const tensors = loops.clone();
      try {
        const opts = { steps: 30, learningRate: 3e-3 };
        const a = await loops.adapt(x, 512, opts); // 'auto' on cpu takes the loops
        const b = await tensors.adapt(x, 512, opts, 'tensors');
        const gap = maxRelativeGap(loops.getWeights(), tensors.getWeights());
        assert.ok(gap < 1e-4, `weights differ by ${gap} of the largest`);
        assert.equal(a.lossBefore, b.lossBefore);
        assert.ok(
          Math.abs(a.lossAfter - b.lossAfter) < 1e-4 * b.lossAfter,
          `${a.lossAfter} vs ${b.lossAfter}`,
        );
        assert.ok(a.lossAfter < a.lossBefore, 'the steps lower the loss');
      } finally {
        loops.dispose();
        tensors.dispose();
      }
    });
  }

  test('a unit that never fires gets no gradient, as through the tensors', async () => {
    const d = 5;
    const net = SparseAutoencoder.create(architectureFor(d), 3);
    const weights = net.getWeights();
    net.dispose();
    weights[1]![0] = -100; // the first hidden unit's bias: it never fires on inputs in [−1, 2)
    const loops = SparseAutoencoder.fromWeights(architectureFor(d), weights);
    try {
      await loops.adapt(matrix(64, d, 1), 64, { steps: 10, learningRate: 1e-2 });
      const after = loops.getWeights();
      assert.equal(after[1]![0], -100);
      for (let k = 0; k < d; k++)
        assert.equal(after[0]![k * after[1]!.length]!, weights[0]![k * weights[1]!.length]!);
    } finally {
      loops.dispose();
    }
  });
});
