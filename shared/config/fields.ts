/**
 * Zod field types for service settings that arrive as text (environment variables, flags) and the
 * fields several services define identically. Using one definition keeps a variable meaning the same
 * thing, with the same accepted values and messages, in every service that reads it.
 */
import { z } from 'zod';
import { PIPELINE_NAME_PATTERN } from '../pipeline.js';

/** `true/false`, `1/0`, `yes/no` (or a real boolean from an already-parsed command line). */
export const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** A whole number within [min, max], read from text. */
export const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** `a, b,,c` → `['a', 'b', 'c']`: a comma-separated list, items trimmed, empty items dropped; absent → `[]`. */
export const commaList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500`, `500ms`, `30s`, `10m`, `2h`, `7d` → milliseconds; NaN when unreadable. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return NaN;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!);
}

/** What a duration setting says when rejected; each service words its examples for its own scale. */
export interface DurationMessages {
  /** The text is not a duration; default `must be a duration such as 500ms, 30s, 10m, 2h or 7d`. */
  invalid?: string;
  /** The duration is below `min`; default `must be at least <min> ms`. */
  belowMin?: string;
}

/** A duration in milliseconds, at least `min`: a number, or text such as `30s` (see parseDuration). */
export const duration = (min: number, messages: DurationMessages = {}) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : parseDuration(v);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: messages.invalid ?? 'must be a duration such as 500ms, 30s, 10m, 2h or 7d',
      });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: messages.belowMin ?? `must be at least ${min} ms` });
      return z.NEVER;
    }
    return ms;
  });

/** What a pipeline name may be (defined with the names it derives, in shared/pipeline.ts). */
export const PIPELINE_NAME = PIPELINE_NAME_PATTERN;

/** The pipeline name every service is scoped by; `required` is the message when it is missing. */
export const pipelineName = (
  required = 'is required: the pipeline name (topics, groups and keys derive from it)',
) => z.string({ error: required }).regex(PIPELINE_NAME, "must be 1–100 letters, digits, '.', '_' or '-'");

/** How Avro record values are framed on the input topic (scorer and trainer read the same topic). */
export const wireFormat = z.enum(['auto', 'confluent', 'raw']).default('auto');
/** A directory of `<id>.avsc` files resolving Confluent schema ids. */
export const schemaIdsDir = z.string().min(1).optional();
export const schemaRegistryUrl = z.url('must be a URL such as http://schema-registry:8081').optional();

/** The TensorFlow.js backend to prefer. */
export const backend = z.enum(['auto', 'cpu', 'wasm', 'tensorflow']).default('auto');
export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');

/** The ops server (/metrics, /healthz, /readyz): each service has its own default port. */
export const metricsPort = (defaultPort: number) => int(0, 65_535).default(defaultPort);
export const metricsHost = z.string().min(1).default('0.0.0.0');

/** How long a graceful shutdown may take before the process exits anyway. */
export const shutdownTimeoutMs = (defaultMs = 30_000) => int(100, 600_000).default(defaultMs);
