import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelError } from '../../../shared/errors.js';
import { architectureFor, parameterCount, weightShapesFor } from '../../../shared/model/architecture.js';
import { SparseAutoencoder } from '../../../shared/model/autoencoder.js';

const units = (d: number) => [d, ...architectureFor(d).layers.map((l) => l.units)];

describe('architectureFor (e = max(4, floor(d/3)))', () => {
  test('d=9: e=4 → 9-8-4-2-4-9, 183 parameters', () => {
    assert.deepEqual(units(9), [9, 8, 4, 2, 4, 9]);
    // 9·8+8 + 8·4+4 + 4·2+2 + 2·4+4 + 4·9+9
    assert.equal(parameterCount(architectureFor(9)), 80 + 36 + 10 + 12 + 45);
  });

  test('d=36: e=12 → 36-24-12-6-12-36, 1,818 parameters', () => {
    assert.deepEqual(units(36), [36, 24, 12, 6, 12, 36]);
    assert.equal(parameterCount(architectureFor(36)), 888 + 300 + 78 + 84 + 468);
  });

  test('d=3: e=4 (the floor of 4) → 3-8-4-2-4-3, 105 parameters', () => {
    assert.deepEqual(units(3), [3, 8, 4, 2, 4, 3]);
    assert.equal(parameterCount(architectureFor(3)), 32 + 36 + 10 + 12 + 15);
  });

  test('d=17: e=5 → 17-10-5-2-5-17; d=21: e=7 → 21-14-7-3-7-21', () => {
    assert.deepEqual(units(17), [17, 10, 5, 2, 5, 17]);
    assert.deepEqual(units(21), [21, 14, 7, 3, 7, 21]);
  });

  test('activations relu ×4 then linear; L1 activity 1e-5 by default', () => {
    const arch = architectureFor(9);
    assert.deepEqual(
      arch.layers.map((l) => l.activation),
      ['relu', 'relu', 'relu', 'relu', 'linear'],
    );
    assert.equal(arch.l1Activity, 1e-5);
    assert.equal(architectureFor(9, 0).l1Activity, 0);
  });

  test('weight shapes: kernel [in, out] then bias [out], per layer', () => {
    assert.deepEqual(weightShapesFor(architectureFor(9)), [
      [9, 8],
      [8],
      [8, 4],
      [4],
      [4, 2],
      [2],
      [2, 4],
      [4],
      [4, 9],
      [9],
    ]);
  });

  test('refuses a non-positive or fractional input dimension', () => {
    for (const d of [0, -3, 2.5]) assert.throws(() => architectureFor(d), ModelError);
  });
});

describe('SparseAutoencoder.create', () => {
  test('Glorot-uniform kernels within ±sqrt(6/(in+out)), zero biases, shapes as the architecture', () => {
    const net = SparseAutoencoder.create(architectureFor(36), 3);
    try {
      const weights = net.getWeights();
      const shapes = weightShapesFor(net.architecture);
      assert.equal(net.parameterCount, 1818);
      weights.forEach((w, i) => {
        const shape = shapes[i]!;
        assert.equal(
          w.length,
          shape.reduce((p, n) => p * n, 1),
        );
        if (shape.length === 1) {
          assert.ok(
            w.every((v) => v === 0),
            `bias ${i} is zero`,
          );
        } else {
          const limit = Math.sqrt(6 / (shape[0]! + shape[1]!));
          const maxAbs = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          assert.ok(maxAbs <= limit, `kernel ${i} within ±${limit}`);
          assert.ok(maxAbs > 0.8 * limit, `kernel ${i} spans the range`);
          const mean = w.reduce((s, v) => s + v, 0) / w.length;
          assert.ok(Math.abs(mean) < limit / 4, `kernel ${i} is centred`);
        }
      });
    } finally {
      net.dispose();
    }
  });

  test('the same seed gives the same weights; another seed different ones', () => {
    const [a, b, c] = [7, 7, 8].map((s) => SparseAutoencoder.create(architectureFor(9), s));
    try {
      assert.deepEqual(a!.getWeights(), b!.getWeights());
      assert.notDeepEqual(a!.getWeights(), c!.getWeights());
    } finally {
      [a, b, c].forEach((n) => n!.dispose());
    }
  });

  test('fromWeights refuses weights that do not fit the architecture', () => {
    const net = SparseAutoencoder.create(architectureFor(9), 1);
    const w = net.getWeights();
    net.dispose();
    assert.throws(
      () => SparseAutoencoder.fromWeights(architectureFor(9), w.slice(1)),
      (e: unknown) => e instanceof ModelError && e.code === 'INCOMPATIBLE_MODEL',
    );
    assert.throws(
      () => SparseAutoencoder.fromWeights(architectureFor(10), w),
      (e: unknown) => e instanceof ModelError && e.code === 'INCOMPATIBLE_MODEL',
    );
  });
});
