/** Runs the real `smae` entry point (`node bin/smae.js`) and collects its exit code and output. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';
import { onCleanup } from './infra.js';

export interface SmaeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function smae(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<SmaeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/smae.js'), ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A temporary directory removed after the test. */
export async function workDir(t: TestContext, prefix = 'smae-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(t, () => rm(dir, { recursive: true, force: true }));
  return dir;
}
