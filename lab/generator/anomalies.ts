/**
 * The report's injected anomalies, applied to one record at a time so they can be injected into a stream.
 *
 * - Variant A ("public"): 2 random numeric features (or all, when fewer) multiplied by one draw of U(6, 30).
 * - Variant B ("private"): half of the numeric features (at least 1), each multiplied by its own U(6, 30)
 *   draw and then shifted by its own U(10, 300) draw.
 *
 * The report draws B's factors once per row as a vector; drawing them per feature is the same thing.
 * Variant A multiplies only, so a zero stays zero (see the data README): the built-in generator keeps its
 * numeric features strictly positive so every injected row really moves.
 */
import type { SeededRandom } from '../../shared/random.js';

export type AnomalyVariant = 'A' | 'B';

export const ANOMALY_VARIANTS: readonly AnomalyVariant[] = ['A', 'B'];

/** Which features an injection touched and by how much, for labels and for tests. */
export interface Injection {
  variant: AnomalyVariant;
  features: string[];
}

/**
 * Injects one anomaly of `variant` into `record` (mutated in place) over its `numericFields`.
 * Fields that do not hold a finite number are left alone (a CSV cell may be empty).
 */
export function injectAnomaly(
  record: Record<string, unknown>,
  numericFields: readonly string[],
  variant: AnomalyVariant,
  draws: SeededRandom,
): Injection {
  const fields = numericFields.filter((f) => typeof record[f] === 'number' && Number.isFinite(record[f]));
  if (fields.length === 0) return { variant, features: [] };
  if (variant === 'A') {
    const k = Math.min(2, fields.length);
    const chosen = draws.choice(fields.length, k).map((i) => fields[i]!);
    const factor = draws.uniform(6, 30);
    for (const f of chosen) record[f] = (record[f] as number) * factor;
    return { variant, features: chosen };
  }
  const k = Math.max(1, Math.floor(fields.length / 2));
  const chosen = draws.choice(fields.length, k).map((i) => fields[i]!);
  for (const f of chosen) {
    const factor = draws.uniform(6, 30);
    const shift = draws.uniform(10, 300);
    record[f] = (record[f] as number) * factor + shift;
  }
  return { variant, features: chosen };
}
