/**
 * Run by backend.test.ts in a fresh process (tfjs backends are process-global):
 * `node --import tsx backend-child.ts <prefer>` initialises that backend, trains and scores a tiny model,
 * and prints one JSON line on stdout — and nothing else, on stdout or stderr.
 */
import { initBackend, trainDetector, type BackendName } from '../../../shared/model/index.js';
import { syntheticRecords } from './fixtures.js';

const prefer = (process.argv[2] ?? 'auto') as BackendName | 'auto';
try {
  const backend = await initBackend({ prefer });
  const rows = syntheticRecords(64, 1);
  const d = await trainDetector(rows, { fit: { epochs: 1, seed: 1 }, source: 'child' });
  const scores = d.scoreBatch(rows.slice(0, 3));
  process.stdout.write(
    `${JSON.stringify({ backend, manifestBackend: d.manifest.backend, scored: scores.length })}\n`,
  );
  d.dispose();
} catch (err) {
  const e = err as { code?: string; message: string };
  process.stdout.write(`${JSON.stringify({ error: e.code ?? 'UNKNOWN', message: e.message })}\n`);
}
