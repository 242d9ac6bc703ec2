/**
 * Records → model rows, the same way in every service: the fitted preprocessing is part of the model and
 * travels in its manifest.
 *
 * - numeric features: one column each, `(raw - offset) / scale`, with offset/scale from the scaler fitted
 *   on training rows only: `none` (0, 1), `standard` (mean, population std; std 0 → 1), `minmax` (min,
 *   max - min; range 0 → 1);
 * - categorical features: one-hot over the categories seen in training (sorted) plus a `<unknown>` slot
 *   for anything else; one-hot columns are not scaled;
 * - missing (absent, null, undefined, '') or non-finite numeric values raise an `InputError` naming the
 *   field, unless the spec's impute policy is `mean` (the training mean of that field) or `zero` (raw 0);
 *   a missing categorical value under those policies goes to the `<unknown>` slot.
 */
import { ConfigError, InputError, ModelError, SmaeError } from '../errors.js';
import type {
  CategoricalFeature,
  FeatureSpec,
  FittedPreprocessing,
  ImputePolicy,
  ScalerKind,
} from './spec.js';
import { fieldValue, missingField, MISSING, nonFinite, readCategory, readNumeric } from './values.js';

export const UNKNOWN_CATEGORY = '<unknown>';
const SCALERS: readonly ScalerKind[] = ['none', 'standard', 'minmax'];
const IMPUTE_POLICIES: readonly ImputePolicy[] = ['error', 'mean', 'zero'];

type Step =
  | { kind: 'numeric'; name: string; column: number; offset: number; scale: number; fill: number | null }
  | {
      kind: 'categorical';
      name: string;
      column: number;
      slots: Map<string, number>;
      unknown: number;
      lenient: boolean;
    };

export class Preprocessor {
  readonly fitted: FittedPreprocessing;
  /** Number of model columns. */
  readonly width: number;
  private readonly steps: Step[];

  private constructor(fitted: FittedPreprocessing) {
    this.fitted = fitted;
    this.width = fitted.columns.length;
    this.steps = buildSteps(fitted);
  }

  /** Fits categories and the scaler on training rows. Throws the first bad row's `InputError` (offline use). */
  static fit(rows: readonly Record<string, unknown>[], spec: FeatureSpec): Preprocessor {
    validateSpec(spec);
    if (rows.length === 0) throw new SmaeError('BAD_DATA_FILE', 'cannot fit preprocessing on zero rows');
    const features = spec.features.map((f) => {
      if (f.kind === 'numeric') return { ...f };
      const categories = f.categories
        ? [...new Set(f.categories.map(String))]
        : collectCategories(rows, f, spec);
      return { ...f, categories: categories.sort() } satisfies CategoricalFeature;
    });
    const fittedSpec: FeatureSpec = { features, scaler: spec.scaler, impute: spec.impute };
    const columns: string[] = [];
    const offset: number[] = [];
    const scale: number[] = [];
    const means: Record<string, number> = {};
    for (const f of features) {
      if (f.kind === 'categorical') {
        for (const c of [...f.categories!, UNKNOWN_CATEGORY]) {
          columns.push(`${f.name}=${c}`);
          offset.push(0);
          scale.push(1);
        }
        continue;
      }
      const values = numericColumn(rows, f.name, spec.impute);
      means[f.name] = values.mean;
      const [o, s] = scalerParams(spec.scaler, values.filled);
      columns.push(f.name);
      offset.push(o);
      scale.push(s);
    }
    return new Preprocessor({ spec: fittedSpec, columns, offset, scale, means });
  }

  /** Rebuilds from a manifest's fitted state; `INCOMPATIBLE_MODEL` if it is inconsistent. */
  static fromFitted(state: FittedPreprocessing): Preprocessor {
    try {
      validateSpec(state.spec);
    } catch (err) {
      throw new ModelError(
        'INCOMPATIBLE_MODEL',
        `model preprocessing is invalid: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const expected = expectedColumns(state.spec);
    const n = state.columns?.length ?? -1;
    const consistent =
      Array.isArray(state.columns) &&
      expected.length === n &&
      expected.every((c, i) => c === state.columns[i]) &&
      state.offset?.length === n &&
      state.scale?.length === n &&
      state.offset.every(Number.isFinite) &&
      state.scale.every((s) => Number.isFinite(s) && s !== 0) &&
      state.spec.features.every(
        (f) => f.kind !== 'numeric' || state.spec.impute !== 'mean' || Number.isFinite(state.means?.[f.name]),
      );
    if (!consistent) {
      throw new ModelError(
        'INCOMPATIBLE_MODEL',
        'model preprocessing is inconsistent (columns, offsets, scales or means)',
      );
    }
    return new Preprocessor(structuredClone(state));
  }

  /** One record → model row written into `out` at `offset`. Throws `InputError` naming the field. */
  transformInto(record: Record<string, unknown>, out: Float32Array, offset: number): void {
    if (record === null || typeof record !== 'object') {
      throw new InputError(
        'WRONG_TYPE',
        `a record must be an object, got ${record === null ? 'null' : typeof record}`,
      );
    }
    for (const step of this.steps) {
      const raw = fieldValue(record, step.name);
      if (step.kind === 'numeric') {
        let v = readNumeric(raw, step.name);
        if (v === MISSING) {
          if (step.fill === null) throw missingField(step.name);
          v = step.fill;
        } else if (!Number.isFinite(v)) {
          if (step.fill === null) throw nonFinite(step.name, v);
          v = step.fill;
        }
        out[offset + step.column] = (v - step.offset) / step.scale;
      } else {
        const c = readCategory(raw, step.name);
        if (c === MISSING && !step.lenient) throw missingField(step.name);
        const slots = step.unknown - step.column + 1;
        out.fill(0, offset + step.column, offset + step.column + slots);
        const slot = c === MISSING ? undefined : step.slots.get(c);
        out[offset + (slot ?? step.unknown)] = 1;
      }
    }
  }

  /** Many records → one row-major matrix. Throws on the first bad row, with its index (offline use). */
  transform(rows: readonly Record<string, unknown>[]): Float32Array {
    const out = new Float32Array(rows.length * this.width);
    rows.forEach((record, i) => {
      try {
        this.transformInto(record, out, i * this.width);
      } catch (err) {
        throw atRow(err, i);
      }
    });
    return out;
  }

  /** Model-space value of column `j` → raw units (for the "expected value" of explanations). */
  inverseColumn(j: number, v: number): number {
    return v * this.fitted.scale[j]! + this.fitted.offset[j]!;
  }
}

function buildSteps(fitted: FittedPreprocessing): Step[] {
  const steps: Step[] = [];
  const lenient = fitted.spec.impute !== 'error';
  let column = 0;
  for (const f of fitted.spec.features) {
    if (f.kind === 'numeric') {
      const fill =
        fitted.spec.impute === 'mean' ? fitted.means[f.name]! : fitted.spec.impute === 'zero' ? 0 : null;
      steps.push({
        kind: 'numeric',
        name: f.name,
        column,
        offset: fitted.offset[column]!,
        scale: fitted.scale[column]!,
        fill,
      });
      column += 1;
    } else {
      const categories = f.categories ?? [];
      const slots = new Map(categories.map((c, i) => [c, column + i]));
      steps.push({
        kind: 'categorical',
        name: f.name,
        column,
        slots,
        unknown: column + categories.length,
        lenient,
      });
      column += categories.length + 1;
    }
  }
  return steps;
}

function expectedColumns(spec: FeatureSpec): string[] {
  return spec.features.flatMap((f) =>
    f.kind === 'numeric'
      ? [f.name]
      : [...(f.categories ?? []), UNKNOWN_CATEGORY].map((c) => `${f.name}=${c}`),
  );
}

function collectCategories(
  rows: readonly Record<string, unknown>[],
  f: CategoricalFeature,
  spec: FeatureSpec,
): string[] {
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    let c: string | typeof MISSING;
    try {
      c = readCategory(fieldValue(r, f.name), f.name);
    } catch (err) {
      throw atRow(err, i);
    }
    if (c === MISSING) {
      if (spec.impute === 'error') throw atRow(missingField(f.name), i);
    } else if (c !== UNKNOWN_CATEGORY) {
      seen.add(c);
    }
  });
  return [...seen];
}

/** A numeric field's training values, imputed per policy, and the mean of the present finite values. */
function numericColumn(
  rows: readonly Record<string, unknown>[],
  name: string,
  impute: ImputePolicy,
): { filled: Float64Array; mean: number } {
  const values = new Float64Array(rows.length);
  const present = new Uint8Array(rows.length);
  let sum = 0;
  let count = 0;
  rows.forEach((r, i) => {
    let v: number | typeof MISSING;
    try {
      v = readNumeric(fieldValue(r, name), name);
      if (impute === 'error') {
        if (v === MISSING) throw missingField(name);
        if (!Number.isFinite(v)) throw nonFinite(name, v);
      }
    } catch (err) {
      throw atRow(err, i);
    }
    if (v !== MISSING && Number.isFinite(v)) {
      values[i] = v;
      present[i] = 1;
      sum += v;
      count += 1;
    }
  });
  const mean = count > 0 ? sum / count : 0;
  const fill = impute === 'mean' ? mean : 0;
  for (let i = 0; i < rows.length; i++) if (!present[i]) values[i] = fill;
  return { filled: values, mean };
}

function scalerParams(kind: ScalerKind, values: Float64Array): [number, number] {
  if (kind === 'none' || values.length === 0) return [0, 1];
  if (kind === 'minmax') {
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const range = max - min;
    return [min, range > 0 && Number.isFinite(range) ? range : 1];
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const std = Math.sqrt(ss / values.length);
  return [mean, std > 0 && Number.isFinite(std) ? std : 1];
}

function validateSpec(spec: FeatureSpec): void {
  const issues: { path: string; message: string }[] = [];
  if (!spec || !Array.isArray(spec.features)) {
    throw new ConfigError('invalid feature spec', [{ path: 'features', message: 'must be an array' }]);
  }
  if (spec.features.length === 0)
    issues.push({ path: 'features', message: 'at least one feature is needed' });
  if (!SCALERS.includes(spec.scaler))
    issues.push({ path: 'scaler', message: `expected ${SCALERS.join(', ')}` });
  if (!IMPUTE_POLICIES.includes(spec.impute)) {
    issues.push({ path: 'impute', message: `expected ${IMPUTE_POLICIES.join(', ')}` });
  }
  const names = new Set<string>();
  spec.features.forEach((f, i) => {
    if (typeof f.name !== 'string' || f.name === '')
      issues.push({ path: `features.${i}.name`, message: 'must be a non-empty string' });
    else if (names.has(f.name))
      issues.push({ path: `features.${i}.name`, message: `duplicate feature "${f.name}"` });
    names.add(f.name);
    if (f.kind !== 'numeric' && f.kind !== 'categorical') {
      issues.push({ path: `features.${i}.kind`, message: 'expected numeric or categorical' });
    }
  });
  if (issues.length > 0) throw new ConfigError('invalid feature spec', issues);
}

function atRow(err: unknown, row: number): unknown {
  if (!(err instanceof InputError)) return err;
  return new InputError(err.code, `row ${row}: ${err.message}`, {
    field: err.field,
    details: { ...err.details, row },
    cause: err,
  });
}
