/**
 * Full-batch Adam steps of plain MSE in plain loops over a network's flat weights, for the cpu backend's
 * rapid adaptation (`SparseAutoencoder.adapt`).
 *
 * An adaptation cycle takes 30 such steps for each of the `default` profile's eight members on 512 support
 * rows. Through tfjs's cpu backend a step cost about 4.4 ms, for a network of a few hundred weights: every
 * op allocates its output and walks generic index arithmetic, and batching the eight members into rank-3
 * ops did not help (docs/RESULTS.md, "Not the fence: the adapter's lag"). These loops do the same
 * arithmetic as the tensor path (forward, MSE gradient, backward through ReLU and linear layers, `FlatAdam`'s
 * update with float32 state) without that overhead. They are not bit-for-bit the tensor path's: sums run
 * in float64 and in another order, so weights agree to float32 rounding (`test/unit/model/dense-adapt.test.ts`).
 * Other backends keep the tensor path.
 */
import type { AdamConfig } from './adam.js';
import type { Architecture } from './artifact.js';

interface LayerSlots {
  inputs: number;
  units: number;
  /** Offset of the kernel ([inputs, units], row-major) in the flat weights; the bias follows it. */
  kernel: number;
  bias: number;
  relu: boolean;
}

export class DenseAdam {
  /** The weights, flat in artifact order (kernel [in, out], bias, per layer); updated in place. */
  readonly weights: Float32Array;
  private readonly inputDim: number;
  private readonly layers: LayerSlots[];
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly grad: Float64Array;
  private t = 0;

  constructor(
    arch: Architecture,
    flat: Float32Array,
    private readonly config: AdamConfig,
  ) {
    this.weights = Float32Array.from(flat);
    this.inputDim = arch.inputDim;
    let inputs = arch.inputDim;
    let offset = 0;
    this.layers = arch.layers.map((layer) => {
      const slots = {
        inputs,
        units: layer.units,
        kernel: offset,
        bias: offset + inputs * layer.units,
        relu: layer.activation === 'relu',
      };
      offset = slots.bias + layer.units;
      inputs = layer.units;
      return slots;
    });
    this.m = new Float32Array(flat.length);
    this.v = new Float32Array(flat.length);
    this.grad = new Float64Array(flat.length);
  }

  /** One step on `rows` rows of the row-major `x`; returns the loss (mean squared error) before it. */
  step(x: Float32Array, rows: number): number {
    const activations = this.forward(x, rows);
    const loss = this.gradients(x, rows, activations);
    this.update();
    return loss;
  }

  /** Each layer's output, the input first. */
  private forward(x: Float32Array, rows: number): Float32Array[] {
    const out = [x];
    let h = x;
    for (const l of this.layers) {
      const next = new Float32Array(rows * l.units);
      for (let r = 0; r < rows; r++) {
        for (let u = 0; u < l.units; u++) {
          let z = this.weights[l.bias + u]!;
          for (let k = 0; k < l.inputs; k++)
            z += h[r * l.inputs + k]! * this.weights[l.kernel + k * l.units + u]!;
          next[r * l.units + u] = l.relu && z < 0 ? 0 : z;
        }
      }
      out.push(next);
      h = next;
    }
    return out;
  }

  /** Fills `grad` with the gradient of mean((reconstruction − x)²); returns that mean. */
  private gradients(x: Float32Array, rows: number, activations: Float32Array[]): number {
    this.grad.fill(0);
    const recon = activations.at(-1)!;
    const n = rows * this.inputDim;
    const scale = 2 / n;
    let g = new Float64Array(n);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const diff = recon[i]! - x[i]!;
      loss += diff * diff;
      g[i] = scale * diff;
    }
    for (let li = this.layers.length - 1; li >= 0; li--) {
      const l = this.layers[li]!;
      const h = activations[li + 1]!;
      const input = activations[li]!;
      if (l.relu) for (let i = 0; i < g.length; i++) if (!(h[i]! > 0)) g[i] = 0;
      const below = li > 0 ? new Float64Array(rows * l.inputs) : null;
      for (let r = 0; r < rows; r++) {
        for (let u = 0; u < l.units; u++) {
          const gu = g[r * l.units + u]!;
          if (gu === 0) continue;
          this.grad[l.bias + u]! += gu;
          for (let k = 0; k < l.inputs; k++) {
            this.grad[l.kernel + k * l.units + u]! += input[r * l.inputs + k]! * gu;
            if (below !== null) below[r * l.inputs + k]! += gu * this.weights[l.kernel + k * l.units + u]!;
          }
        }
      }
      if (below !== null) g = below;
    }
    return loss / n;
  }

  /** `FlatAdam.apply`'s update, with its float32 state. */
  private update(): void {
    const { learningRate: lr, beta1: b1, beta2: b2, epsilon } = this.config;
    this.t += 1;
    const alpha = (lr * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    for (let i = 0; i < this.weights.length; i++) {
      const g = this.grad[i]!;
      const m = (this.m[i] = this.m[i]! + (g - this.m[i]!) * (1 - b1));
      const v = (this.v[i] = this.v[i]! + (g * g - this.v[i]!) * (1 - b2));
      this.weights[i] = this.weights[i]! - (m * alpha) / (Math.sqrt(v) + epsilon);
    }
  }
}
