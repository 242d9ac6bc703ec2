export { percentile, Threshold } from './percentile.js';
