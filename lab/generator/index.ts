/**
 * Labelled event streams for the demo, the drift benchmark and the tests: the built-in generator
 * (`syntheticSource`, `syntheticEvents`) and a user's CSV file (`csvSource`).
 */
export * from './events.js';
export * from './anomalies.js';
export { SeededRandom, deriveSeed } from '../../shared/random.js';
export * from './synthetic.js';
export * from './csv-source.js';
