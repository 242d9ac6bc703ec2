import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError } from '../../../shared/errors.js';
import {
  activeBackend,
  BACKEND_NAMES,
  initBackend,
  type BackendName,
} from '../../../shared/model/backend.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./backend-child.ts', import.meta.url));

async function child(
  prefer: string,
): Promise<{ stdout: string; stderr: string; result: Record<string, unknown> }> {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CHILD, prefer], {
    timeout: 60_000,
  });
  return { stdout, stderr, result: JSON.parse(stdout) as Record<string, unknown> };
}

/** tfjs-node loads here (installed with its native library: `npm install` alone leaves it out). */
function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url)('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

describe('initBackend (in this process)', () => {
  test('auto picks a backend once; later calls agree; activeBackend reports it', async () => {
    const [a, b] = await Promise.all([initBackend(), initBackend({ prefer: 'auto' })]);
    assert.ok(BACKEND_NAMES.includes(a));
    assert.equal(b, a);
    assert.equal(activeBackend(), a);
    assert.equal(await initBackend({ prefer: a }), a);
    if (!tfjsNodeInstalled()) assert.equal(a, 'cpu');
  });

  test('forcing another backend afterwards is INVALID_CONFIG; an unknown name too', async () => {
    const current = await initBackend();
    const other: BackendName = current === 'wasm' ? 'cpu' : 'wasm';
    await assert.rejects(
      initBackend({ prefer: other }),
      (e: unknown) => e instanceof ConfigError && e.code === 'INVALID_CONFIG',
    );
    await assert.rejects(
      initBackend({ prefer: 'gpu' as BackendName }),
      (e: unknown) => e instanceof ConfigError,
    );
    assert.equal(activeBackend(), current);
  });
});

describe('initBackend (fresh processes)', { concurrency: true }, () => {
  test('forced wasm trains, scores and is recorded in the manifest; nothing is printed', async () => {
    const { stdout, stderr, result } = await child('wasm');
    assert.deepEqual(result, { backend: 'wasm', manifestBackend: 'wasm', scored: 3 });
    assert.equal(stdout.trim().split('\n').length, 1);
    assert.equal(stderr, '');
  });

  test('cpu: no "Hi, looks like you are running TensorFlow.js in Node.js" banner on either stream', async () => {
    const { stdout, stderr, result } = await child('cpu');
    assert.deepEqual(result, { backend: 'cpu', manifestBackend: 'cpu', scored: 3 });
    assert.doesNotMatch(stdout + stderr, /looks like you are running/);
    assert.equal(stderr, '');
  });

  test(
    'forced tensorflow without @tensorflow/tfjs-node installed is BACKEND_UNAVAILABLE',
    { skip: tfjsNodeInstalled() },
    async () => {
      const { result } = await child('tensorflow');
      assert.equal(result.error, 'BACKEND_UNAVAILABLE');
      assert.match(String(result.message), /tensorflow/);
    },
  );
});
