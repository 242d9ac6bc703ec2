/**
 * `npm run build` (deploy/build/build.mjs) into a temporary folder inside the repository (so node_modules
 * resolves as in a real dist/): every service's entry point answers `--help` from the compiled output with
 * plain `node` (no tsx loader), the bundled schemas are copied, and no compiled file imports a package
 * that `npm ci --omit=dev` would leave out.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../../tools/infra/kafka/broker.js';

const SERVICES = ['scorer', 'adapter', 'trainer', 'alerts'];
let outDir = '';

before(() => {
  const parent = join(REPO_ROOT, '.cache');
  spawnSync('mkdir', ['-p', parent]);
  outDir = mkdtempSync(join(parent, 'build-test-'));
  const res = spawnSync(
    process.execPath,
    ['deploy/build/build.mjs', '--out-dir', relative(REPO_ROOT, outDir)],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  assert.equal(res.status, 0, `build failed:\n${res.stdout}${res.stderr}`);
});

after(() => {
  if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
});

/** Runs a compiled file with plain node: no --import tsx, no TypeScript anywhere on the path. */
function runCompiled(file: string, args: string[]): { status: number | null; out: string } {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the test runner's tsx loader must not leak into the child
  const res = spawnSync(process.execPath, [join(outDir, file), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env,
  });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

for (const name of SERVICES) {
  test(`dist/services/${name}/main.js --help runs with plain node`, () => {
    const { status, out } = runCompiled(`services/${name}/main.js`, ['--help']);
    assert.equal(status, 0, out);
    assert.match(out, new RegExp(`smae ${name}|SMAE_PIPELINE`));
  });
}

test('the CLI answers --help from dist', () => {
  const { status, out } = runCompiled('tools/cli/main.js', ['--help']);
  assert.equal(status, 0, out);
  assert.match(out, /Usage: smae/);
});

test('the bundled .avsc schemas are copied next to the compiled schemas module', () => {
  for (const f of ['flag.avsc', 'score.avsc', 'transaction.avsc']) {
    const copy = join(outDir, 'shared', 'avro', 'schemas', f);
    assert.ok(existsSync(copy), `${f} missing from the build`);
    assert.equal(readFileSync(copy, 'utf8'), readFileSync(join(REPO_ROOT, 'shared/avro/schemas', f), 'utf8'));
  }
});

test('compiled code imports only production dependencies and node built-ins', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const allowed = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
  const builtins = new Set(builtinModules);
  const offenders: string[] = [];
  const files = (readdirSync(outDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
  assert.ok(files.length > 50, `expected the compiled tree, found ${files.length} files`);
  const specifier =
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const f of files) {
    const text = readFileSync(join(outDir, f), 'utf8');
    for (const m of text.matchAll(specifier)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!allowed.has(name)) offenders.push(`${f}: ${spec}`);
    }
  }
  // tsx is resolved only by string (import.meta.resolve) in code paths taken when running .ts sources.
  assert.deepEqual(offenders, [], 'imports of packages missing from a production install');
  assert.ok(pkg.devDependencies['tsx'] !== undefined, 'tsx is a development dependency');
});
