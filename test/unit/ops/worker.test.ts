import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, SmaeError } from '../../../shared/errors.js';
import { reviveError, serializeError, ThreadRunner } from '../../../shared/ops/worker.js';
import type { EchoInput } from '../../fixtures/echo-thread.js';

const entry = new URL('../../fixtures/echo-thread.ts', import.meta.url);

describe('error codec', () => {
  test('a ConfigError keeps its issues across the boundary', () => {
    const err = reviveError(serializeError(new ConfigError('bad', [{ path: 'a', message: 'b' }])));
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.issues, [{ path: 'a', message: 'b' }]);
  });

  test('a catalogue error keeps code, field and details; other errors keep name and message', () => {
    const err = reviveError(
      serializeError(new SmaeError('BAD_DATA_FILE', 'x', { field: 'f', details: { n: 1 } })),
    );
    assert.ok(err instanceof SmaeError);
    assert.equal(err.code, 'BAD_DATA_FILE');
    assert.equal(err.field, 'f');
    assert.deepEqual(err.details, { n: 1 });
    const plain = reviveError(serializeError(new RangeError('out')));
    assert.equal(plain.name, 'RangeError');
    assert.equal(plain.message, 'out');
    assert.equal(reviveError(serializeError('text')).message, 'text');
  });
});

describe('ThreadRunner', () => {
  test('runs requests in one thread, with progress, and rebuilds thrown errors', async (t) => {
    const runner = new ThreadRunner<EchoInput, number, number>(entry, { name: 'echo' });
    t.after(() => runner.close());
    const seen: number[] = [];
    assert.equal(
      await runner.run({ kind: 'echo', value: 7, steps: 3 }, { onProgress: (p) => seen.push(p) }),
      7,
    );
    assert.deepEqual(seen, [1, 2, 3]);
    await assert.rejects(runner.run({ kind: 'config-error' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.issues, [{ path: 'epochs', message: 'must be positive' }]);
      return true;
    });
    await assert.rejects(runner.run({ kind: 'smae-error' }), { code: 'BAD_DATA_FILE', field: 'rows' });
    assert.equal(await runner.run({ kind: 'echo', value: 8, steps: 0 }), 8);
  });

  test('aborting rejects with the reason, and the next request gets a new thread', async (t) => {
    const runner = new ThreadRunner<EchoInput, number, number>(entry, { name: 'echo' });
    t.after(() => runner.close());
    const ac = new AbortController();
    const hung = runner.run({ kind: 'hang' }, { signal: ac.signal });
    ac.abort(new Error('stop now'));
    await assert.rejects(hung, /stop now/);
    assert.equal(await runner.run({ kind: 'echo', value: 1, steps: 0 }), 1);
  });

  test('a thread that dies rejects its requests as INFRA_UNAVAILABLE and is replaced', async (t) => {
    const runner = new ThreadRunner<EchoInput, number, number>(entry, { name: 'echo' });
    t.after(() => runner.close());
    await assert.rejects(runner.run({ kind: 'exit' }), { code: 'INFRA_UNAVAILABLE' });
    assert.equal(await runner.run({ kind: 'echo', value: 2, steps: 0 }), 2);
  });

  test('warm() starts the thread and resolves once its setup is done; requests then run on that thread', async (t) => {
    const runner = new ThreadRunner<EchoInput, number, number>(entry, {
      name: 'echo',
      workerData: { setupMs: 150 },
    });
    t.after(() => runner.close());
    const before = Date.now();
    await runner.warm();
    const warmedAt = Date.now();
    const readyAt = await runner.run({ kind: 'ready-at' });
    assert.ok(readyAt >= before + 100, 'the setup ran before warm() resolved');
    assert.ok(readyAt <= warmedAt, 'warm() resolved after the setup, on the thread that serves requests');
    await runner.warm(); // a warm thread: resolves at once, same thread
    assert.equal(await runner.run({ kind: 'ready-at' }), readyAt);
  });

  test('warm() rejects as INFRA_UNAVAILABLE when the thread dies while starting', async (t) => {
    const runner = new ThreadRunner<EchoInput, number, number>(entry, {
      name: 'echo',
      workerData: { exitOnStart: true },
    });
    t.after(() => runner.close());
    await assert.rejects(runner.warm(), { code: 'INFRA_UNAVAILABLE' });
  });
});
