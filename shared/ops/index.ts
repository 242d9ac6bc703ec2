/** Operations plumbing shared by the services: metrics registry, per-record histograms and the /metrics, /healthz, /readyz server. */
export * from './metrics.js';
export * from './record-histogram.js';
export * from './server.js';
