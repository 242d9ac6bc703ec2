/**
 * `smae alerts` settings: command-line options win over `SMAE_*` environment variables; validated once
 * into a typed `AlertsConfig`, every problem named with both its flag and its variable.
 */
import { z } from 'zod';
import { ConfigError } from '../../shared/errors.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500`, `500ms`, `30s`, `10m`, `2h`, `7d` → milliseconds; NaN when unreadable. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return NaN;
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

const duration = (min: number) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : parseDuration(v);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 30s, 10m, 2h or 7d' });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${min} ms` });
      return z.NEVER;
    }
    return ms;
  });

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min).max(max);

export const alertsSettingsSchema = z.object({
  pipeline: z
    .string({ error: 'is required: the pipeline whose flags to read' })
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/, "must be 1–100 letters, digits, '.', '_' or '-'"),
  flagsTopic: z.string().min(1).optional(),
  groupId: z.string().min(1).optional(),
  window: duration(1).default(600_000),
  timeBase: z.enum(['event', 'processing'], { error: 'must be event or processing' }).default('event'),
  format: z.enum(['json', 'text'], { error: 'must be json or text' }).default('json'),
  stdout: bool.default(true),
  webhookUrl: z.url('must be an http(s) URL such as https://hooks.example.com/smae').optional(),
  webhookHeaders: z.array(z.string().regex(/^[^:\s]+:.*$/, 'must read "Name: value"')).default([]),
  webhookTimeout: duration(1).default(5000),
  retryAttempts: int(1, 100).default(5),
  retryBase: duration(1).default(500),
  retryMax: duration(1).default(10_000),
  fromBeginning: bool.default(false),
  seenTtl: duration(1000).default(7 * 86_400_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type AlertsSettings = z.infer<typeof alertsSettingsSchema>;

export interface AlertsConfig extends AlertsSettings {
  names: PipelineNames;
  topic: string;
  group: string;
  headers: Record<string, string>;
}

type Key = keyof AlertsSettings;
export const ALERTS_KEYS = Object.keys(alertsSettingsSchema.shape) as Key[];

export function envName(key: string): string {
  return `SMAE_ALERTS_${key.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
}

export function flagName(key: string): string {
  return key.replace(/([A-Z])/g, '-$1').toLowerCase();
}

/**
 * Collects settings from the environment (`SMAE_ALERTS_*`, and `SMAE_PIPELINE` for the pipeline) and
 * from already-parsed command-line options (which win), then validates them.
 */
export function loadAlertsConfig(
  env: NodeJS.ProcessEnv,
  options: Partial<Record<Key, unknown>>,
): AlertsConfig {
  const raw: Partial<Record<Key, unknown>> = {};
  if (env.SMAE_PIPELINE) raw.pipeline = env.SMAE_PIPELINE;
  for (const k of ALERTS_KEYS) {
    const v = env[envName(k)];
    if (v === undefined || v.trim() === '') continue;
    raw[k] = k === 'webhookHeaders' ? v.split('\n').filter((l) => l.trim() !== '') : v.trim();
  }
  for (const k of ALERTS_KEYS) {
    const v = options[k];
    if (v === undefined || (Array.isArray(v) && v.length === 0 && raw[k] !== undefined)) continue;
    raw[k] = v;
  }
  const result = alertsSettingsSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      'invalid alerts configuration',
      result.error.issues.map((i) => {
        const key = String(i.path[0] ?? '');
        const variable = key === 'pipeline' ? 'SMAE_PIPELINE' : envName(key);
        return { path: key ? `--${flagName(key)} / ${variable}` : '(root)', message: i.message };
      }),
    );
  }
  const s = result.data;
  const names = pipelineNames(s.pipeline);
  const headers: Record<string, string> = {};
  for (const h of s.webhookHeaders) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  if (!s.stdout && !s.webhookUrl) {
    throw new ConfigError('invalid alerts configuration', [
      {
        path: '--no-stdout',
        message: `with stdout off, set a webhook (--webhook-url / ${envName('webhookUrl')})`,
      },
    ]);
  }
  return {
    ...s,
    names,
    topic: s.flagsTopic ?? names.topics.flags,
    group: s.groupId ?? names.groups.alerts,
    headers,
  };
}
