/**
 * SparseMetaAE's layer plan, exactly as the report defines it:
 * with `d` inputs and `e = max(4, floor(d / 3))`,
 * Dense(2e, relu) → Dense(e, relu) → Dense(floor(e / 2), relu) → Dense(e, relu) → Dense(d, linear),
 * and an L1 activity penalty (1e-5 in the report) on the first hidden layer's outputs.
 */
import { ModelError } from '../errors.js';
import type { Architecture } from './artifact.js';

export const DEFAULT_L1_ACTIVITY = 1e-5;

export function architectureFor(inputDim: number, l1Activity: number = DEFAULT_L1_ACTIVITY): Architecture {
  if (!Number.isInteger(inputDim) || inputDim < 1) {
    throw new ModelError('INCOMPATIBLE_MODEL', `input dimension must be a positive integer, got ${inputDim}`);
  }
  const e = Math.max(4, Math.floor(inputDim / 3));
  return {
    inputDim,
    layers: [
      { units: 2 * e, activation: 'relu' },
      { units: e, activation: 'relu' },
      { units: Math.floor(e / 2), activation: 'relu' },
      { units: e, activation: 'relu' },
      { units: inputDim, activation: 'linear' },
    ],
    l1Activity,
  };
}

/** Kernel [in, out] then bias [out], per layer — the order of weights in artifacts. */
export function weightShapesFor(arch: Architecture): number[][] {
  const shapes: number[][] = [];
  let fanIn = arch.inputDim;
  for (const layer of arch.layers) {
    shapes.push([fanIn, layer.units], [layer.units]);
    fanIn = layer.units;
  }
  return shapes;
}

export function parameterCount(arch: Architecture): number {
  return weightShapesFor(arch).reduce((sum, s) => sum + s.reduce((p, n) => p * n, 1), 0);
}

/** Throws `INCOMPATIBLE_MODEL` unless the architecture is one this library can build and score. */
export function validateArchitecture(arch: Architecture): void {
  const fail = (why: string): never => {
    throw new ModelError('INCOMPATIBLE_MODEL', `unsupported architecture: ${why}`, {
      details: { architecture: arch },
    });
  };
  if (!arch || !Number.isInteger(arch.inputDim) || arch.inputDim < 1)
    fail('inputDim must be a positive integer');
  if (!Array.isArray(arch.layers) || arch.layers.length < 1) fail('no layers');
  arch.layers.forEach((l, i) => {
    if (!Number.isInteger(l.units) || l.units < 1) fail(`layer ${i} has ${l.units} units`);
    if (l.activation !== 'relu' && l.activation !== 'linear')
      fail(`layer ${i} activation ${String(l.activation)}`);
  });
  const last = arch.layers[arch.layers.length - 1]!;
  if (last.units !== arch.inputDim)
    fail(`the output layer has ${last.units} units for ${arch.inputDim} inputs`);
  if (!(typeof arch.l1Activity === 'number' && arch.l1Activity >= 0))
    fail('l1Activity must be a number >= 0');
}
