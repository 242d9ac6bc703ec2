#!/usr/bin/env node
// `npm run build`: compiles shared/ and services/ (tsconfig.build.json) into dist/ and copies the files
// the services read at run time (every non-TypeScript file under shared/ and services/ but READMEs: the
// bundled .avsc schemas today), so `node dist/services/<name>/main.js` runs with production dependencies
// only. Plain JavaScript on purpose: it must run where tsx is not installed.
//
//   node deploy/build/build.mjs [--out-dir DIR]     (DIR relative to the repository; default dist)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_DIRS = ['shared', 'services', 'tools/cli'];

/** Files copied verbatim: run-time assets, not sources or documentation. */
export function isRuntimeAsset(path) {
  return !/\.(ts|md)$/.test(path);
}

function main(argv) {
  const i = argv.indexOf('--out-dir');
  const outDir = resolve(root, i >= 0 ? argv[i + 1] : 'dist');
  rmSync(outDir, { recursive: true, force: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const res = spawnSync(
    process.execPath,
    [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (res.status !== 0) return res.status ?? 1;
  let copied = 0;
  for (const dir of SOURCE_DIRS) {
    for (const rel of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!rel.isFile()) continue;
      const src = join(rel.parentPath, rel.name);
      if (!isRuntimeAsset(src)) continue;
      const dest = join(outDir, relative(root, src));
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(src, dest);
      copied++;
    }
  }
  process.stdout.write(
    `built ${relative(root, outDir) || '.'}: compiled shared/, services/ and the smae CLI (tools/cli/, with the lab modules it imports), ${copied} asset(s) copied\n`,
  );
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(main(process.argv.slice(2)));
}
