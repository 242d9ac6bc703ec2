/**
 * Inference of the networks' dense layers in plain loops over their weights, for the cpu backend.
 *
 * tfjs's cpu backend is JavaScript too, but every op allocates its output and walks broadcasts through
 * generic index arithmetic: scoring a batch of 500 rows with the `default` profile's eight members took
 * 25 µs a row, nearly all of it in that overhead (a member's layers hold a few hundred weights). These
 * loops do the same arithmetic in the same order and round to float32 where tfjs stores a tensor:
 * a matMul sums each product in float64, over the inner dimension in blocks of `MATMUL_BLOCK`, adding
 * each block's sum into a float32 result; the bias add and every elementwise op round their result.
 * So scores are bit-for-bit those of the tensor path (`test/unit/model/dense.test.ts`), and a model
 * scores the same whichever path ran. Other backends (tfjs-node, wasm) keep the tensor path: native
 * kernels win there once a network is wide.
 */
import type { Architecture } from './artifact.js';

/** The cpu backend's matMul block size over the inner dimension (tfjs-backend-cpu's `blockSize`). */
const MATMUL_BLOCK = 48;

/** One dense layer, its kernel transposed to `[units, inputs]` so a unit's weights are contiguous. */
interface Layer {
  inputs: number;
  units: number;
  kernelT: Float32Array;
  bias: Float32Array;
  relu: boolean;
}

/** The forward pass of a network's dense layers (weights in artifact order: kernel [in, out], bias). */
export class DenseForward {
  private readonly layers: Layer[];
  readonly inputDim: number;

  constructor(arch: Architecture, weights: readonly Float32Array[]) {
    let inputs = arch.inputDim;
    this.inputDim = inputs;
    this.layers = arch.layers.map((layer, i) => {
      const kernel = weights[2 * i]!;
      const units = layer.units;
      const kernelT = new Float32Array(inputs * units);
      for (let k = 0; k < inputs; k++) {
        for (let u = 0; u < units; u++) kernelT[u * inputs + k] = kernel[k * units + u]!;
      }
      const out: Layer = {
        inputs,
        units,
        kernelT,
        bias: weights[2 * i + 1]!,
        relu: layer.activation === 'relu',
      };
      inputs = units;
      return out;
    });
  }

  /** The output of the last layer for `rows` rows of a row-major matrix. */
  run(x: Float32Array, rows: number): Float32Array {
    let h = x;
    for (const layer of this.layers) h = dense(layer, h, rows);
    return h;
  }
}

function dense(layer: Layer, h: Float32Array, rows: number): Float32Array {
  const { inputs, units, kernelT, bias, relu } = layer;
  const out = new Float32Array(rows * units);
  for (let i = 0; i < rows; i++) {
    const row = i * inputs;
    for (let u = 0; u < units; u++) {
      const w = u * inputs;
      let acc = 0; // float32, as tfjs's result buffer
      for (let k0 = 0; k0 < inputs; k0 += MATMUL_BLOCK) {
        const end = Math.min(k0 + MATMUL_BLOCK, inputs);
        let sum = 0;
        for (let k = k0; k < end; k++) sum += h[row + k]! * kernelT[w + k]!;
        acc = Math.fround(acc + sum);
      }
      const v = Math.fround(acc + bias[u]!);
      out[i * units + u] = relu ? Math.max(0, v) : v;
    }
  }
  return out;
}

/**
 * Per-row mean of squared differences between a reconstruction and its input, as tfjs's
 * `mean(squaredDifference(recon, x), 1)` computes it on the cpu backend (each square rounded, divided by
 * `d` and rounded, summed in float64). With `squared`, the rounded squares are written there too.
 */
export function meanSquaredErrors(
  recon: Float32Array,
  x: Float32Array,
  rows: number,
  d: number,
  squared?: Float32Array,
): Float32Array {
  const mse = new Float32Array(rows);
  const fd = Math.fround(d);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = i * d; j < (i + 1) * d; j++) {
      const diff = recon[j]! - x[j]!;
      const sq = Math.fround(diff * diff);
      if (squared) squared[j] = sq;
      sum += Math.fround(sq / fd);
    }
    mse[i] = sum;
  }
  return mse;
}
