/**
 * Guessing a feature spec from column names and sample rows: a column is numeric when every present
 * value reads as a number (numeric strings included), categorical otherwise.
 */
import { ConfigError } from '../errors.js';
import type { FeatureDef, FeatureSpec, ImputePolicy, ScalerKind } from './spec.js';
import { fieldValue, MISSING, readCategory, readNumeric } from './values.js';

export interface InferFeatureSpecOptions {
  /** Scaler for numeric features (`minmax`: the scaling that reaches the report's figures on its data). */
  scaler?: ScalerKind;
  impute?: ImputePolicy;
  /** Columns that are never features (a label, an id, a timestamp). */
  exclude?: readonly string[];
  /** Columns forced to categorical / numeric, whatever their values look like. */
  categorical?: readonly string[];
  numeric?: readonly string[];
  /**
   * A non-numeric column with more distinct values than this in the sample is refused (it is more likely
   * an identifier or free text than a category): exclude it or force it. Default 100.
   */
  maxCategories?: number;
}

export function inferFeatureSpec(
  columns: readonly string[],
  sample: readonly Record<string, unknown>[],
  opts: InferFeatureSpecOptions = {},
): FeatureSpec {
  const exclude = new Set(opts.exclude ?? []);
  const forcedCategorical = new Set(opts.categorical ?? []);
  const forcedNumeric = new Set(opts.numeric ?? []);
  const maxCategories = opts.maxCategories ?? 100;
  const features: FeatureDef[] = [];
  const issues: { path: string; message: string }[] = [];
  for (const name of columns) {
    if (exclude.has(name)) continue;
    if (forcedNumeric.has(name)) {
      features.push({ kind: 'numeric', name });
      continue;
    }
    if (forcedCategorical.has(name) || !looksNumeric(sample, name)) {
      const distinct = new Set<string>();
      for (const r of sample) {
        try {
          const c = readCategory(fieldValue(r, name), name);
          if (c !== MISSING) distinct.add(c);
        } catch {
          // objects and arrays: left for the preprocessing to reject with WRONG_TYPE
        }
      }
      if (!forcedCategorical.has(name) && distinct.size > maxCategories) {
        issues.push({
          path: name,
          message: `non-numeric column with ${distinct.size} distinct values (more than ${maxCategories}); exclude it or declare it categorical`,
        });
        continue;
      }
      features.push({ kind: 'categorical', name });
      continue;
    }
    features.push({ kind: 'numeric', name });
  }
  if (issues.length > 0) throw new ConfigError('cannot infer a feature spec', issues);
  if (features.length === 0) {
    throw new ConfigError('cannot infer a feature spec', [
      { path: 'columns', message: 'no feature columns left' },
    ]);
  }
  return { features, scaler: opts.scaler ?? 'minmax', impute: opts.impute ?? 'error' };
}

function looksNumeric(sample: readonly Record<string, unknown>[], name: string): boolean {
  for (const r of sample) {
    try {
      readNumeric(fieldValue(r, name), name);
    } catch {
      return false;
    }
  }
  return true;
}
