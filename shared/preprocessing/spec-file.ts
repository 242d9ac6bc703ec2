/**
 * A feature spec kept in a JSON file (`features.json`, written by `smae init`, edited by users, read by
 * `smae train --features` and the trainer's `SMAE_FEATURES`): validated once with zod, every problem
 * named with its path. Keys besides `features`, `scaler` and `impute` are notes and are ignored.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { FeatureSpec } from './spec.js';

const featureSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('numeric'), name: z.string().min(1) }),
  z.object({
    kind: z.literal('categorical'),
    name: z.string().min(1),
    categories: z.array(z.string()).optional(),
  }),
]);

export const featureSpecSchema = z
  .object({
    features: z.array(featureSchema).min(1, 'lists no features'),
    scaler: z.enum(['none', 'standard', 'minmax']).default('minmax'),
    impute: z.enum(['error', 'mean', 'zero']).default('error'),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.features.forEach((f, i) => {
      if (seen.has(f.name))
        ctx.addIssue({
          code: 'custom',
          path: ['features', i, 'name'],
          message: `"${f.name}" is listed twice`,
        });
      seen.add(f.name);
    });
  });

/** Validates a parsed feature spec; `source` names it in errors. */
export function parseFeatureSpec(value: unknown, source = 'feature spec'): FeatureSpec {
  const r = featureSpecSchema.safeParse(value);
  if (!r.success) {
    throw new ConfigError(
      `${source} is not a valid feature spec`,
      r.error.issues.map((i) => ({
        path: `${source}:${i.path.join('.') || '(root)'}`,
        message: i.message,
      })),
    );
  }
  return {
    features: r.data.features.map((f) =>
      f.kind === 'categorical' && f.categories
        ? { kind: 'categorical', name: f.name, categories: f.categories }
        : { kind: f.kind, name: f.name },
    ),
    scaler: r.data.scaler,
    impute: r.data.impute,
  };
}

/** Reads and validates a feature spec file (synchronously: read once, at start). */
export function loadFeatureSpecFile(path: string): FeatureSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read feature spec ${path}`, [
      { path, message: `check the path (smae init writes one): ${(err as Error).message}` },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`feature spec ${path} is not valid JSON`, [
      { path, message: (err as Error).message },
    ]);
  }
  return parseFeatureSpec(value, path);
}
