/**
 * Writing `smae init`'s files without ever losing a user's edits: a file that exists with other content
 * is kept unless `force`; when any would be, nothing is written and the error names each one. A file
 * that already holds exactly the new content counts as unchanged.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

export interface SetupFile {
  name: string;
  text: string;
}

export interface WriteOutcome {
  written: string[];
  unchanged: string[];
}

export async function writeSetupFiles(
  dir: string,
  files: readonly SetupFile[],
  opts: { force?: boolean } = {},
): Promise<WriteOutcome> {
  const existing = await Promise.all(
    files.map((f) =>
      readFile(join(dir, f.name), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      }),
    ),
  );
  const differing = files.filter((f, i) => existing[i] !== null && existing[i] !== f.text);
  if (differing.length > 0 && !opts.force) {
    throw new ConfigError(
      `${dir} already holds setup files that differ from what init would write`,
      differing.map((f) => ({
        path: join(dir, f.name),
        message: 'exists with other content (your edits?): kept; run again with --force to overwrite it',
      })),
    );
  }
  await mkdir(dir, { recursive: true });
  const out: WriteOutcome = { written: [], unchanged: [] };
  for (const [i, f] of files.entries()) {
    if (existing[i] === f.text) {
      out.unchanged.push(f.name);
      continue;
    }
    await writeFile(join(dir, f.name), f.text);
    out.written.push(f.name);
  }
  return out;
}
