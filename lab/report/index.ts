/** The run report: results contract, HTML rendering, and the builder the CLI and the demo call. */
export * from './results.js';
export { renderReport, formatDuration } from './html.js';
export { buildReport, type BuiltReport } from './build.js';
