/**
 * `smae alerts` settings: command-line options win over `SMAE_*` environment variables; validated once
 * into a typed `AlertsConfig`, every problem named with both its flag and its variable.
 */
import { z } from 'zod';
import * as f from '../../shared/config/fields.js';
import { configKeys, defineServiceConfig } from '../../shared/config/service-config.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';

export { parseDuration } from '../../shared/config/fields.js';

const { bool, duration, int } = f;

export const alertsSettingsSchema = z.object({
  pipeline: f.pipelineName('is required: the pipeline whose flags to read'),
  flagsTopic: z.string().min(1).optional(),
  groupId: z.string().min(1).optional(),
  window: duration(1).default(600_000),
  timeBase: z.enum(['event', 'processing'], { error: 'must be event or processing' }).default('event'),
  format: z.enum(['json', 'text'], { error: 'must be json or text' }).default('json'),
  stdout: bool.default(true),
  webhookUrl: z.url('must be an http(s) URL such as https://hooks.example.com/smae').optional(),
  // One header per line in the environment variable; a repeatable option on the command line.
  webhookHeaders: z.preprocess(
    (v) => (typeof v === 'string' ? v.split('\n').filter((l) => l.trim() !== '') : v),
    z.array(z.string().regex(/^[^:\s]+:.*$/, 'must read "Name: value"')).default([]),
  ),
  webhookTimeout: duration(1).default(5000),
  retryAttempts: int(1, 100).default(5),
  retryBase: duration(1).default(500),
  retryMax: duration(1).default(10_000),
  fromBeginning: bool.default(false),
  seenTtl: duration(1000).default(7 * 86_400_000),
  logLevel: f.logLevel,
  metricsPort: f.metricsPort(9468),
  metricsHost: f.metricsHost,
  shutdownTimeoutMs: f.shutdownTimeoutMs(),
});

export type AlertsSettings = z.infer<typeof alertsSettingsSchema>;

export interface AlertsConfig extends AlertsSettings {
  names: PipelineNames;
  topic: string;
  group: string;
  headers: Record<string, string>;
}

type Key = keyof AlertsSettings;

const alertsConfig = defineServiceConfig({
  service: 'alerts',
  schema: alertsSettingsSchema,
  // `SMAE_ALERTS_*` variables, except the pipeline, which every service reads from `SMAE_PIPELINE`.
  keys: configKeys(alertsSettingsSchema, {
    envPrefix: 'SMAE_ALERTS_',
    env: { pipeline: 'SMAE_PIPELINE' },
    label: 'flag-first',
  }),
  check: (s, keys) =>
    !s.stdout && !s.webhookUrl
      ? [{ path: '--no-stdout', message: `with stdout off, set a webhook (${keys.where('webhookUrl')})` }]
      : [],
});
export const ALERTS_KEYS = alertsConfig.keys.all;
export const envName = alertsConfig.keys.env;
/** Every setting with its environment variable and default, for `--help`. */
export const describeAlertsSettings = (): string => alertsConfig.describe();
export { flagName } from '../../shared/config/service-config.js';

/**
 * Collects settings from the environment (`SMAE_ALERTS_*`, and `SMAE_PIPELINE` for the pipeline) and
 * from already-parsed command-line options (which win), then validates them.
 */
export function loadAlertsConfig(
  env: NodeJS.ProcessEnv,
  options: Partial<Record<Key, unknown>>,
): AlertsConfig {
  const s = alertsConfig.load({ env, options });
  const names = pipelineNames(s.pipeline);
  const headers: Record<string, string> = {};
  for (const h of s.webhookHeaders) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  return {
    ...s,
    names,
    topic: s.flagsTopic ?? names.topics.flags,
    group: s.groupId ?? names.groups.alerts,
    headers,
  };
}
