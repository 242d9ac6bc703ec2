/** Flags → alerts: grouping rule, Redis state, delivery, and the consumer. */
export * from './suppression.js';
export * from './redis-store.js';
export * from './delivery.js';
export * from './app.js';
export * from './config.js';
