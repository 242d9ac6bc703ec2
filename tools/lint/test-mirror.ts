/**
 * Unit tests mirror the sources they test: `test/unit/<path>/<name>[.<aspect>].test.ts` tests
 *
 *   services/…, lab/…, tools/…  →  the same path (`test/unit/services/scorer/delivery.test.ts`)
 *   deploy/…                    →  the file or folder of that name under deploy/ (`deploy/k8s`)
 *   helpers/…                   →  test/helpers/… (the test helpers themselves)
 *   anything else               →  shared/… (`test/unit/scoring/batch.test.ts` ↔ `shared/scoring/batch.ts`)
 *
 * A source may have several test files, one per aspect (`delivery.shutdown.test.ts`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** The source file a unit test file mirrors (repository-relative, `.ts`). */
export function mirroredSource(testPath: string): string {
  const rel = testPath
    .split(sep)
    .join('/')
    .replace(/^test\/unit\//, '');
  const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/') + 1) : '';
  const name = rel
    .slice(dir.length)
    .replace(/\.test\.ts$/, '')
    .split('.')[0]!;
  const top = dir.split('/')[0];
  const base = `${dir}${name}.ts`;
  if (top === 'services' || top === 'lab' || top === 'tools') return base;
  if (top === 'helpers') return `test/${base}`;
  if (top === 'deploy') return `${dir}${name}`;
  return `shared/${base}`;
}

/** Unit test files under `root/test/unit` whose mirrored source does not exist. */
export function unmirroredTests(root: string): { test: string; expected: string }[] {
  return readdirSync(join(root, 'test', 'unit'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .map((test) => ({ test, expected: mirroredSource(test) }))
    .filter(
      ({ expected }) => ![expected, expected.replace(/\.ts$/, '.js')].some((f) => existsSync(join(root, f))),
    );
}
