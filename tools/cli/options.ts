/**
 * Helpers shared by the offline commands (`smae eval`, `smae score`): option validation that names
 * the command-line flag, seed lists, and keeping stdout for results only.
 */
import { z } from 'zod';
import { ConfigError } from '../../shared/errors.js';

/** Validates commander's parsed options; failures become one `ConfigError` naming every bad flag. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    'invalid option',
    parsed.error.issues.map((i) => ({ path: flagName(i.path), message: issueMessage(i, raw) })),
  );
}

function flagName(path: readonly PropertyKey[]): string {
  const key = String(path[0] ?? '');
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function issueMessage(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  const given = raw[String(issue.path[0] ?? '')];
  const suffix = given === undefined || typeof given === 'boolean' ? '' : ` (got "${String(given)}")`;
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `expected one of ${(issue.values as unknown[]).map(String).join(', ')}${suffix}`;
  }
  return `${issue.message}${suffix}`;
}

/** A whole number ≥ 1 from a command-line string. */
export const positiveInt = z.coerce
  .number('must be a number')
  .int('must be a whole number')
  .min(1, 'must be a whole number ≥ 1');

/** A seed: a whole number in [0, 2³² − 1]. */
export const seedNumber = z.coerce
  .number('must be a number')
  .int('must be a whole number')
  .min(0, 'must be ≥ 0')
  .max(2 ** 32 - 1, 'must be < 2^32');

/** `1,2,3`, `1-5` or a mix (`1-3,10`): distinct non-negative integers, in the order given. */
export const seedList = z.string().transform((text, ctx) => {
  const seeds: number[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a || b - a > 1000) {
        ctx.addIssue({ code: 'custom', message: `bad seed range "${part}"` });
        return z.NEVER;
      }
      for (let s = a; s <= b; s++) seeds.push(s);
    } else if (/^\d+$/.test(part) && Number(part) <= 2 ** 32 - 1) {
      seeds.push(Number(part));
    } else {
      ctx.addIssue({
        code: 'custom',
        message: `"${part}" is not a seed (non-negative integers, e.g. 1,2,3 or 1-5)`,
      });
      return z.NEVER;
    }
  }
  const distinct = [...new Set(seeds)];
  if (distinct.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'no seeds given' });
    return z.NEVER;
  }
  return distinct;
});

/**
 * A reader that stops early (`smae score … | head`) closes the pipe: that is the reader's choice, not
 * an error, so the command ends quietly instead of printing `write EPIPE`.
 */
let stdoutGuarded = false;
export function endQuietlyOnClosedStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.prependListener('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`smae: cannot write to stdout: ${err.message}\n`);
    process.exit(1);
  });
}

/**
 * Runs `fn` with `console.log`/`info`/`debug` sent to stderr, so nothing a library prints (tfjs
 * notices, stray debugging) can corrupt a command's stdout (CSV, JSON).
 */
export async function protectStdout<T>(fn: () => Promise<T>): Promise<T> {
  endQuietlyOnClosedStdout();
  const saved = { log: console.log, info: console.info, debug: console.debug };
  console.log = console.info = console.debug = console.error;
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}

/** Loads `KEY=value` lines into the environment; variables already set win (as `node --env-file`). */
export function loadEnvFile(path: string): void {
  try {
    process.loadEnvFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read settings file ${path}`, [
      { path: '--env-file', message: `${(err as Error).message} (smae init writes DIR/smae.env)` },
    ]);
  }
}
