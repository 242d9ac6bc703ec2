/**
 * The SparseMetaAE network on TensorFlow.js: plain variables and a custom training step.
 *
 * The tfjs layers API refuses activity regularizers, and the report's "sparse" is exactly that: an L1
 * penalty on the first hidden layer's outputs, which Keras adds to the loss as `l1 · Σ|h1| / batch`.
 * So the loss is written out here — MSE + that term — and minimised by a Keras-style Adam (`adam.ts`).
 *
 * All weights live in one flat variable (kernel [in, out] then bias [out], per layer: the artifact's
 * order). Training splits it per step (the split is differentiable); scoring uses a cached per-layer copy:
 * plain loops on the cpu backend (`dense.ts`), fused matMul+bias+activation kernels on the others. Every
 * tensor is created inside `tf.tidy` or disposed explicitly, so `tf.memory().numTensors` stays flat over
 * any number of fit/adapt/score calls.
 */
import { ModelError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { FlatAdam, type AdamConfig } from './adam.js';
import type { Architecture } from './artifact.js';
import { validateArchitecture, weightShapesFor } from './architecture.js';
import { createRng, randomSeed, shuffleInPlace, type Rng } from '../random.js';
import { activeBackend } from './backend.js';
import { DenseForward, meanSquaredErrors } from './dense.js';
import { DenseAdam } from './dense-adapt.js';
import { deadUnits, EarlyStopping, trimKeepCount } from './stability.js';
import { tf } from './tf.js';

export interface FitOptions {
  /** Passes over the data (30). */
  epochs?: number;
  /** Rows per step (32); the last, partial batch of an epoch is used too, as Keras does. */
  batchSize?: number;
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Seeds the shuffling (initial weights are seeded by `SparseAutoencoder.create`). Random if absent. */
  seed?: number;
  /** Reshuffle the rows every epoch (true). */
  shuffle?: boolean;
  /** Longest stretch, in ms, the loop computes before yielding to the event loop (20). */
  yieldEveryMs?: number;
  /** Stops training between two steps; `fit` then rejects with the signal's reason. */
  signal?: AbortSignal;
  logger?: Logger;
  /**
   * Held-out rows (model space) for early stopping: their plain MSE is measured after every epoch,
   * training stops after `patience` epochs without improvement and the best epoch's weights are kept.
   */
  validation?: { matrix: Float32Array; rows: number };
  /** Epochs without validation improvement before stopping (3); only with `validation`. */
  patience?: number;
  /** Share of each batch's highest-loss rows left out of the loss after the warm-up (0: off). */
  trimFraction?: number;
  /** Epochs of plain (untrimmed) loss before trimming starts (2). */
  trimWarmupEpochs?: number;
  /**
   * Re-draw the incoming weights of hidden ReLU units that never fire on (a sample of) the training
   * rows, checked after each epoch of the first half of training (false: the report's network).
   */
  reviveDeadUnits?: boolean;
}

export const DEFAULT_FIT_OPTIONS = {
  epochs: 30,
  batchSize: 32,
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  shuffle: true,
  yieldEveryMs: 20,
} as const;

export interface EpochProgress {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Mean training loss over the epoch's rows (MSE + L1 activity term), as Keras reports it. */
  loss: number;
  seconds: number;
  steps: number;
  rows: number;
}

export interface FitResult {
  epochs: number;
  rows: number;
  stepsPerEpoch: number;
  lossHistory: number[];
  finalLoss: number;
  seconds: number;
  /** The shuffling seed actually used (generated when none was given), so any run can be repeated. */
  seed: number;
  /** Validation MSE after each epoch (with `validation`). */
  validationHistory?: number[];
  /** The epoch whose weights were kept (with `validation`). */
  bestEpoch?: number;
  /** Hidden units re-drawn because they never fired (with `reviveDeadUnits`). */
  revivedUnits?: number;
}

export interface AdaptOptions {
  /** Full-batch steps (5). */
  steps?: number;
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export const DEFAULT_ADAPT_OPTIONS = {
  steps: 5,
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
} as const;

export interface ReconstructionErrors {
  /** Per-row mean squared error, length `rows`. */
  mse: Float32Array;
  /** Per-row, per-column squared errors, row-major `rows × inputDim` (only with `perFeature`). */
  squaredErrors?: Float32Array;
  /** The reconstructions, row-major `rows × inputDim`, in model space (only with `perFeature`). */
  reconstruction?: Float32Array;
}

export interface LossBreakdown {
  /** MSE + L1 activity term, the quantity training minimises. */
  loss: number;
  mse: number;
  /** `l1Activity · Σ|h1| / rows`. */
  l1Penalty: number;
  /** d loss / d weight, one array per weight tensor (artifact order). */
  gradients: Float32Array[];
}

/** Rows per tensor when scoring; beyond this, a call is split so memory stays bounded. */
const MAX_ROWS_PER_TENSOR = 65_536;

export class SparseAutoencoder {
  readonly architecture: Architecture;
  readonly weightShapes: number[][];
  readonly parameterCount: number;
  /** The initialisation seed (null when built from weights). */
  readonly initSeed: number | null;

  private readonly sizes: number[];
  private readonly params: tf.Variable;
  private inference: tf.Tensor[] | null = null;
  /** The weights as plain arrays for the cpu backend's inference (`dense.ts`); dropped with `inference`. */
  private loops: DenseForward | null = null;
  private disposed = false;

  private constructor(arch: Architecture, flat: Float32Array, initSeed: number | null) {
    validateArchitecture(arch);
    this.architecture = structuredClone(arch);
    this.weightShapes = weightShapesFor(arch);
    this.sizes = this.weightShapes.map((s) => s.reduce((p, n) => p * n, 1));
    this.parameterCount = this.sizes.reduce((a, b) => a + b, 0);
    if (flat.length !== this.parameterCount) {
      throw new ModelError(
        'INCOMPATIBLE_MODEL',
        `the architecture has ${this.parameterCount} parameters, got ${flat.length} weights`,
      );
    }
    this.initSeed = initSeed;
    const init = tf.tensor1d(flat, 'float32');
    this.params = tf.variable(init, true);
    init.dispose();
  }

  /** A new network: Glorot-uniform kernels (seeded), zero biases — Keras' Dense defaults. */
  static create(arch: Architecture, seed: number = randomSeed()): SparseAutoencoder {
    validateArchitecture(arch);
    const rng = createRng(seed, 0);
    const shapes = weightShapesFor(arch);
    const flat = new Float32Array(shapes.reduce((s, sh) => s + sh.reduce((p, n) => p * n, 1), 0));
    let offset = 0;
    for (const shape of shapes) {
      const size = shape.reduce((p, n) => p * n, 1);
      if (shape.length === 2) {
        const limit = Math.sqrt(6 / (shape[0]! + shape[1]!));
        for (let i = 0; i < size; i++) flat[offset + i] = (rng.next() * 2 - 1) * limit;
      }
      offset += size;
    }
    return new SparseAutoencoder(arch, flat, seed);
  }

  /** Rebuilds a network from its weight tensors (artifact order); `INCOMPATIBLE_MODEL` if shapes differ. */
  static fromWeights(arch: Architecture, weights: readonly Float32Array[]): SparseAutoencoder {
    validateArchitecture(arch);
    const shapes = weightShapesFor(arch);
    if (weights.length !== shapes.length) {
      throw new ModelError(
        'INCOMPATIBLE_MODEL',
        `expected ${shapes.length} weight tensors, got ${weights.length}`,
      );
    }
    const total = shapes.reduce((s, sh) => s + sh.reduce((p, n) => p * n, 1), 0);
    const flat = new Float32Array(total);
    let offset = 0;
    shapes.forEach((shape, i) => {
      const size = shape.reduce((p, n) => p * n, 1);
      if (weights[i]!.length !== size) {
        throw new ModelError(
          'INCOMPATIBLE_MODEL',
          `weight tensor ${i} has ${weights[i]!.length} values, shape [${shape.join(', ')}] needs ${size}`,
        );
      }
      flat.set(weights[i]!, offset);
      offset += size;
    });
    return new SparseAutoencoder(arch, flat, null);
  }

  get inputDim(): number {
    return this.architecture.inputDim;
  }

  /**
   * Trains on `rows` rows of `x` (row-major, model space): MSE + L1 activity term, Keras-style Adam (fresh
   * for each call), reshuffled mini-batches. Yields to the event loop regularly, so a service keeps
   * answering while it trains.
   */
  async fit(
    x: Float32Array,
    rows: number,
    opts: FitOptions = {},
    onEpoch?: (e: EpochProgress) => void,
  ): Promise<FitResult> {
    this.assertUsable();
    this.checkMatrix(x, rows);
    const o = { ...DEFAULT_FIT_OPTIONS, ...stripUndefined(opts) };
    checkPositiveInt('epochs', o.epochs, true);
    checkPositiveInt('batchSize', o.batchSize);
    const logger = opts.logger ?? silentLogger;
    const seed = opts.seed ?? randomSeed();
    const rng = createRng(seed, 1);
    const d = this.inputDim;
    const l1 = this.architecture.l1Activity;
    const batchSizes: number[] = [];
    for (let start = 0; start < rows; start += o.batchSize)
      batchSizes.push(Math.min(o.batchSize, rows - start));
    const order = Int32Array.from({ length: rows }, (_, i) => i);

    const adam = new FlatAdam(this.parameterCount, o);
    const trimFraction = opts.trimFraction ?? 0;
    const trimWarmup = opts.trimWarmupEpochs ?? 2;
    trimKeepCount(1, trimFraction); // validates the fraction
    const stopper = opts.validation ? new EarlyStopping(opts.patience ?? 3) : null;
    const validationHistory: number[] = [];
    let best: Float32Array | null = null;
    let revivedUnits = 0;
    const reviveRng = createRng(seed, 2);
    const xAll = tf.tensor2d(x.subarray(0, rows * d), [rows, d]);
    const lossHistory: number[] = [];
    const started = performance.now();
    this.dropInferenceCache();
    try {
      for (let epoch = 1; epoch <= o.epochs; epoch++) {
        const epochStart = performance.now();
        if (o.shuffle) shuffleInPlace(order, rng);
        const trim = trimFraction > 0 && epoch > trimWarmup ? trimFraction : 0;
        const loss = await this.epoch(xAll, o.shuffle ? order : null, batchSizes, adam, {
          l1,
          trim,
          yieldEveryMs: o.yieldEveryMs,
          signal: opts.signal,
        });
        lossHistory.push(loss);
        const progress: EpochProgress = {
          epoch,
          epochs: o.epochs,
          loss,
          seconds: (performance.now() - epochStart) / 1000,
          steps: batchSizes.length,
          rows,
        };
        logger.debug(progress, 'epoch done');
        onEpoch?.(progress);
        if (opts.reviveDeadUnits && epoch <= Math.ceil(o.epochs / 2)) {
          revivedUnits += this.reviveDead(x, rows, reviveRng);
        }
        let stop = false;
        if (stopper) {
          const v = this.plainMseOf(opts.validation!.matrix, opts.validation!.rows);
          validationHistory.push(v);
          const u = stopper.update(epoch, v);
          if (u.improved) best = (this.params.dataSync() as Float32Array).slice();
          stop = u.stop;
        }
        await breathe();
        throwIfAborted(opts.signal);
        if (stop) break;
      }
      if (best !== null && stopper && stopper.bestEpoch < lossHistory.length) {
        const restored = tf.tensor1d(best, 'float32');
        this.params.assign(restored);
        restored.dispose();
      }
    } finally {
      this.dropInferenceCache();
      xAll.dispose();
      adam.dispose();
    }
    return {
      epochs: lossHistory.length,
      rows,
      stepsPerEpoch: batchSizes.length,
      lossHistory,
      finalLoss: lossHistory.length > 0 ? lossHistory[lossHistory.length - 1]! : Number.NaN,
      seconds: (performance.now() - started) / 1000,
      seed,
      ...(stopper ? { validationHistory, bestEpoch: stopper.bestEpoch } : {}),
      ...(opts.reviveDeadUnits ? { revivedUnits } : {}),
    };
  }

  /**
   * One epoch of mini-batch steps over `xAll`'s rows in `order` (as stored when null), batches of
   * `batchSizes`; the epoch's loss, the mean over rows. Yields to the event loop every `yieldEveryMs`.
   */
  private async epoch(
    xAll: tf.Tensor2D,
    order: Int32Array | null,
    batchSizes: readonly number[],
    adam: FlatAdam,
    step: { l1: number; trim: number; yieldEveryMs: number; signal: AbortSignal | undefined },
  ): Promise<number> {
    const batches = tf.tidy(() =>
      tf.split(order ? tf.gather(xAll, tf.tensor1d(order, 'int32')) : xAll, batchSizes as number[]),
    );
    const losses: tf.Tensor[] = [];
    try {
      let lastYield = performance.now();
      for (let b = 0; b < batches.length; b++) {
        losses.push(this.trainStep(batches[b]!, adam, step.l1, step.trim));
        batches[b]!.dispose();
        if (performance.now() - lastYield >= step.yieldEveryMs) {
          await breathe();
          throwIfAborted(step.signal);
          lastYield = performance.now();
        }
      }
      const stacked = tf.stack(losses);
      const batchLosses = stacked.dataSync();
      stacked.dispose();
      let weighted = 0;
      let rows = 0;
      for (let b = 0; b < batchSizes.length; b++) {
        weighted += batchLosses[b]! * batchSizes[b]!;
        rows += batchSizes[b]!;
      }
      return weighted / rows;
    } finally {
      tf.dispose(batches);
      tf.dispose(losses);
    }
  }

  /**
   * Rapid adaptation, as the report does it: a fresh Adam taking full-batch steps of plain MSE (no L1
   * term) on the support rows. Returns the support-set MSE before the first and after the last step. On
   * the cpu backend the steps run as plain loops (`dense-adapt.ts`: the same arithmetic without tfjs's
   * per-op overhead); on other backends, or with `via: 'tensors'`, as tfjs tensors.
   */
  async adapt(
    x: Float32Array,
    rows: number,
    opts: AdaptOptions = {},
    via: 'auto' | 'tensors' = 'auto',
  ): Promise<{ lossBefore: number; lossAfter: number }> {
    this.assertUsable();
    this.checkMatrix(x, rows);
    const o = { ...DEFAULT_ADAPT_OPTIONS, ...stripUndefined(opts) };
    checkPositiveInt('steps', o.steps, true);
    const support = x.subarray(0, rows * this.inputDim);
    this.dropInferenceCache();
    try {
      const lossBefore = this.plainMseOf(support, rows);
      if (via === 'auto' && activeBackend() === 'cpu') await this.adaptInLoops(support, rows, o);
      else await this.adaptInTensors(support, rows, o);
      return { lossBefore, lossAfter: this.plainMseOf(support, rows) };
    } finally {
      this.dropInferenceCache();
    }
  }

  /** Per-row MSE (and, with `perFeature`, squared errors and reconstructions) for a row-major matrix. */
  reconstructionErrors(
    x: Float32Array,
    rows: number,
    opts: { perFeature?: boolean } = {},
  ): ReconstructionErrors {
    const d = this.inputDim;
    const reconstruction = this.reconstructRows(x, rows);
    if (opts.perFeature !== true) return { mse: meanSquaredErrors(reconstruction, x, rows, d) };
    const squaredErrors = new Float32Array(rows * d);
    const mse = meanSquaredErrors(reconstruction, x, rows, d, squaredErrors);
    return { mse, squaredErrors, reconstruction };
  }

  /**
   * The reconstruction of `rows` rows of a row-major matrix. On the cpu backend the layers run as plain
   * loops (`dense.ts`: the same arithmetic as tfjs's kernels, without their per-op overhead); on other
   * backends, or with `via: 'tensors'`, as tfjs tensors.
   */
  reconstructRows(x: Float32Array, rows: number, via: 'auto' | 'tensors' = 'auto'): Float32Array {
    this.assertUsable();
    this.checkMatrix(x, rows, true);
    const d = this.inputDim;
    if (via === 'auto' && activeBackend() === 'cpu') {
      this.loops ??= new DenseForward(this.architecture, this.getWeights());
      return this.loops.run(x.subarray(0, rows * d), rows);
    }
    const out = new Float32Array(rows * d);
    const layers = this.inferenceWeights();
    for (let start = 0; start < rows; start += MAX_ROWS_PER_TENSOR) {
      const n = Math.min(MAX_ROWS_PER_TENSOR, rows - start);
      const recon = tf.tidy(() =>
        this.predictWith(tf.tensor2d(x.subarray(start * d, (start + n) * d), [n, d]), layers),
      );
      try {
        out.set(recon.dataSync(), start * d);
      } finally {
        recon.dispose();
      }
    }
    return out;
  }

  /**
   * The loss and its gradients on one batch, without updating anything: for tests and diagnostics.
   * `l1Activity` overrides the architecture's (0 gives plain MSE).
   */
  lossAndGradients(x: Float32Array, rows: number, opts: { l1Activity?: number } = {}): LossBreakdown {
    this.assertUsable();
    this.checkMatrix(x, rows);
    const l1 = opts.l1Activity ?? this.architecture.l1Activity;
    const [loss, mse, l1Penalty, grad] = tf.tidy(() => {
      const input = tf.tensor2d(x.subarray(0, rows * this.inputDim), [rows, this.inputDim]);
      const { value, grads } = tf.variableGrads(
        () => this.loss(input, this.unflatten(this.params), l1).total,
        [this.params],
      );
      const parts = this.loss(input, this.unflatten(this.params), l1);
      return [value, parts.mse, parts.l1Penalty, grads[this.params.name]!];
    });
    try {
      const flat = grad.dataSync();
      return {
        loss: loss.dataSync()[0]!,
        mse: mse.dataSync()[0]!,
        l1Penalty: l1Penalty.dataSync()[0]!,
        gradients: this.splitFlat(flat),
      };
    } finally {
      tf.dispose([loss, mse, l1Penalty, grad]);
    }
  }

  /** The weights, one array per tensor (kernel [in, out] row-major, then bias), in artifact order. */
  getWeights(): Float32Array[] {
    this.assertUsable();
    return this.splitFlat(this.params.dataSync());
  }

  clone(): SparseAutoencoder {
    this.assertUsable();
    const copy = SparseAutoencoder.fromWeights(this.architecture, this.getWeights());
    (copy as { initSeed: number | null }).initSeed = this.initSeed;
    return copy;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropInferenceCache();
    this.params.dispose();
  }

  // --- internals -------------------------------------------------------------------------------------

  private async adaptInTensors(
    x: Float32Array,
    rows: number,
    o: AdamConfig & { steps: number },
  ): Promise<void> {
    const support = tf.tensor2d(x, [rows, this.inputDim]);
    const adam = new FlatAdam(this.parameterCount, o);
    try {
      await stepsWithBreaks(o.steps, () => tf.dispose(this.trainStep(support, adam, 0)));
    } finally {
      support.dispose();
      adam.dispose();
    }
  }

  private async adaptInLoops(
    x: Float32Array,
    rows: number,
    o: AdamConfig & { steps: number },
  ): Promise<void> {
    const trainer = new DenseAdam(this.architecture, this.params.dataSync() as Float32Array, o);
    await stepsWithBreaks(o.steps, () => trainer.step(x, rows));
    const updated = tf.tensor1d(trainer.weights, 'float32');
    this.params.assign(updated);
    updated.dispose();
  }

  /**
   * One optimiser step on a batch; returns the batch loss (a kept scalar the caller disposes). With
   * `trim` > 0 the batch's highest-loss share of rows is masked out of the MSE (the mask is computed
   * before the gradient tape, so it is a constant of the step).
   */
  private trainStep(batch: tf.Tensor, adam: FlatAdam, l1: number, trim = 0): tf.Tensor {
    return tf.tidy(() => {
      let mask: tf.Tensor | null = null;
      if (trim > 0) {
        const n = batch.shape[0]!;
        const keep = trimKeepCount(n, trim);
        if (keep < n) {
          const rowLoss = tf.mean(
            tf.squaredDifference(this.predictWith(batch as tf.Tensor2D, this.unflatten(this.params)), batch),
            1,
          );
          const cut = tf.neg(tf.min(tf.topk(tf.neg(rowLoss), keep).values));
          mask = tf.cast(tf.lessEqual(rowLoss, cut), 'float32');
        }
      }
      const { value, grads } = tf.variableGrads(
        () => this.loss(batch, this.unflatten(this.params), l1, mask).total,
        [this.params],
      );
      adam.apply(this.params, grads[this.params.name]!);
      return value;
    });
  }

  private loss(
    x: tf.Tensor,
    weights: tf.Tensor[],
    l1: number,
    mask: tf.Tensor | null = null,
  ): { total: tf.Scalar; mse: tf.Scalar; l1Penalty: tf.Scalar } {
    let h = x;
    let h1: tf.Tensor | null = null;
    this.architecture.layers.forEach((layer, i) => {
      const z = tf.add(tf.matMul(h as tf.Tensor2D, weights[2 * i] as tf.Tensor2D), weights[2 * i + 1]!);
      h = layer.activation === 'relu' ? tf.relu(z) : z;
      if (i === 0) h1 = h;
    });
    const mse = (
      mask === null
        ? tf.mean(tf.squaredDifference(h, x))
        : tf.div(tf.sum(tf.mul(tf.mean(tf.squaredDifference(h, x), 1), mask)), tf.sum(mask))
    ) as tf.Scalar;
    if (l1 === 0) return { total: mse, mse, l1Penalty: tf.scalar(0) };
    const l1Penalty = tf.mul(tf.sum(tf.abs(h1!)), l1 / x.shape[0]!) as tf.Scalar;
    return { total: tf.add(mse, l1Penalty) as tf.Scalar, mse, l1Penalty };
  }

  private unflatten(flat: tf.Tensor): tf.Tensor[] {
    return tf.split(flat, this.sizes).map((part, i) => part.reshape(this.weightShapes[i]!));
  }

  /** Plain MSE over a row-major matrix (validation), in chunks of bounded size. */
  private plainMseOf(x: Float32Array, rows: number): number {
    const layers = this.unflattenedCopy();
    try {
      let total = 0;
      for (let start = 0; start < rows; start += MAX_ROWS_PER_TENSOR) {
        const n = Math.min(MAX_ROWS_PER_TENSOR, rows - start);
        const s = tf.tidy(() => {
          const input = tf.tensor2d(x.subarray(start * this.inputDim, (start + n) * this.inputDim), [
            n,
            this.inputDim,
          ]);
          return tf.sum(tf.mean(tf.squaredDifference(this.predictWith(input, layers), input), 1));
        });
        total += s.dataSync()[0]!;
        s.dispose();
      }
      return total / rows;
    } finally {
      tf.dispose(layers);
    }
  }

  private unflattenedCopy(): tf.Tensor[] {
    return tf.tidy(() => this.unflatten(this.params));
  }

  /**
   * Finds hidden ReLU units that never fire on (up to 4,096 of) the rows and re-draws their incoming
   * weights (Glorot-uniform, bias 0); returns how many were re-drawn.
   */
  private reviveDead(x: Float32Array, rows: number, rng: Rng): number {
    const d = this.inputDim;
    const n = Math.min(rows, 4096);
    const maxima = tf.tidy(() => {
      const layers = this.unflatten(this.params);
      const out: tf.Tensor[] = [];
      this.predictWith(tf.tensor2d(x.subarray(0, n * d), [n, d]), layers, (h, activation) => {
        if (activation === 'relu') out.push(tf.max(h, 0));
      });
      return out;
    });
    const maxValues = maxima.map((t) => t.dataSync().slice());
    tf.dispose(maxima);
    let flat: Float32Array | null = null;
    let revived = 0;
    let reluIndex = 0;
    let offset = 0;
    this.architecture.layers.forEach((layer, i) => {
      const [fanIn, units] = this.weightShapes[2 * i]! as [number, number];
      const kernelOffset = offset;
      const biasOffset = offset + fanIn * units;
      offset = biasOffset + units;
      if (layer.activation !== 'relu') return;
      const dead = deadUnits(maxValues[reluIndex++]!);
      if (dead.length === 0) return;
      flat ??= (this.params.dataSync() as Float32Array).slice();
      const limit = Math.sqrt(6 / (fanIn + units));
      for (const j of dead) {
        for (let r = 0; r < fanIn; r++) flat[kernelOffset + r * units + j] = (rng.next() * 2 - 1) * limit;
        flat[biasOffset + j] = 0;
        revived += 1;
      }
    });
    if (flat !== null) {
      const t = tf.tensor1d(flat, 'float32');
      this.params.assign(t);
      t.dispose();
      this.dropInferenceCache();
    }
    return revived;
  }

  /** The forward pass with `layers`; `onLayer` sees each layer's output (inside the caller's tidy). */
  private predictWith(
    x: tf.Tensor2D,
    layers: tf.Tensor[],
    onLayer?: (h: tf.Tensor2D, activation: string) => void,
  ): tf.Tensor2D {
    let h: tf.Tensor2D = x;
    this.architecture.layers.forEach((layer, i) => {
      h = tf.fused.matMul({
        a: h,
        b: layers[2 * i] as tf.Tensor2D,
        bias: layers[2 * i + 1],
        activation: layer.activation,
      }) as tf.Tensor2D;
      onLayer?.(h, layer.activation);
    });
    return h;
  }

  private inferenceWeights(): tf.Tensor[] {
    // Kept, so a first call from inside a caller's tf.tidy does not dispose the cache at its end.
    if (this.inference === null)
      this.inference = tf.tidy(() => this.unflatten(this.params)).map((t) => tf.keep(t));
    return this.inference;
  }

  private dropInferenceCache(): void {
    if (this.inference !== null) tf.dispose(this.inference);
    this.inference = null;
    this.loops = null;
  }

  private splitFlat(flat: ArrayLike<number>): Float32Array[] {
    const src = flat instanceof Float32Array ? flat : Float32Array.from(flat);
    const out: Float32Array[] = [];
    let offset = 0;
    for (const size of this.sizes) {
      out.push(src.slice(offset, offset + size));
      offset += size;
    }
    return out;
  }

  private checkMatrix(x: Float32Array, rows: number, allowEmpty = false): void {
    if (!Number.isInteger(rows) || rows < (allowEmpty ? 0 : 1)) {
      throw new RangeError(`rows must be an integer >= ${allowEmpty ? 0 : 1}, got ${rows}`);
    }
    if (x.length < rows * this.inputDim) {
      throw new RangeError(
        `matrix holds ${x.length} values, ${rows} rows × ${this.inputDim} columns need more`,
      );
    }
  }

  private assertUsable(): void {
    if (this.disposed) throw new Error('SparseAutoencoder used after dispose()');
  }
}

function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `steps` calls of `step`, yielding to the event loop every `yieldEveryMs` of the fit defaults. */
async function stepsWithBreaks(steps: number, step: () => unknown): Promise<void> {
  let lastYield = performance.now();
  for (let s = 0; s < steps; s++) {
    step();
    if (performance.now() - lastYield >= DEFAULT_FIT_OPTIONS.yieldEveryMs) {
      await breathe();
      lastYield = performance.now();
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new Error('training aborted');
}

function checkPositiveInt(name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(`${name} must be an integer >= ${allowZero ? 0 : 1}, got ${value}`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export type { AdamConfig };
