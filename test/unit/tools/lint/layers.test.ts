/**
 * The import-direction rule (tools/lint/layers.js) through ESLint itself, with the project's own
 * configuration: planted wrong-way imports are reported, right-way ones are not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = join(import.meta.dirname, '../../../..');
const eslint = new ESLint({ cwd: ROOT });

async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'layers/direction').map((m) => m.message);
}

describe('layers/direction', () => {
  const cases: [string, string, boolean][] = [
    ['shared/scoring/planted.ts', "export { auc } from '../../lab/eval/metrics.js';", false],
    ['shared/scoring/planted.ts', "import '../../services/scorer/app.js';", false],
    ['shared/scoring/planted.ts', "export const m = await import('../../tools/cli/options.js');", false],
    ['services/scorer/planted.ts', "import { runAlerts } from '../alerts/run.js';\nvoid runAlerts;", false],
    ['services/scorer/planted.ts', "import { x } from '../../lab/demo/options.js';\nvoid x;", false],
    ['lab/demo/planted.ts', "import { x } from '../../services/alerts/config.js';\nvoid x;", false],
    ['shared/scoring/planted.ts', "export { percentile } from '../threshold/percentile.js';", true],
    ['services/scorer/planted.ts', "export { buildScorer } from './app.js';", true],
    ['lab/demo/planted.ts', "export { ensureKafka } from '../../tools/infra/kafka/broker.js';", true],
    ['tools/cli/planted.ts', "export { runAlerts } from '../../services/alerts/run.js';", true],
    ['test/unit/planted.test.ts', "export { main } from '../../lab/demo/main.js';", true],
  ];
  for (const [file, code, ok] of cases) {
    test(`${ok ? 'allows' : 'refuses'} ${code.split('\n')[0]} in ${file}`, async () => {
      const found = await violations(file, code);
      if (ok) assert.deepEqual(found, []);
      else assert.equal(found.length, 1, `expected one violation, got ${JSON.stringify(found)}`);
    });
  }
});
