/**
 * A prom-client registry per service. Each service builds its own registry (not prom-client's global
 * one), so tests can run several services in one process without "metric already registered" errors,
 * and every series carries the `service` and `pipeline` labels a dashboard filters by.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsRegistryOptions {
  service: string;
  pipeline?: string;
  /** Process metrics (CPU, memory, event-loop lag, GC); default true. */
  defaultMetrics?: boolean;
  /** Extra labels on every series. */
  labels?: Record<string, string>;
}

export function createMetricsRegistry(opts: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({
    service: opts.service,
    ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
    ...opts.labels,
  });
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'smae_' });
  return registry;
}

export { Registry };
