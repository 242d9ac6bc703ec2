/** Operations plumbing shared by the services: metrics registry and the /metrics, /healthz, /readyz server. */
export * from './metrics.js';
export * from './server.js';
