import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import {
  EXIT_CODES,
  exitCodeFor,
  runMain,
  runService,
  type ServiceControl,
  type ServiceProcess,
} from '../../../shared/ops/lifecycle.js';
import { silentLogger } from '../../../shared/log.js';

/** A stand-in process: signals are emitted by the test, exits are recorded. */
class FakeProcess extends EventEmitter implements ServiceProcess {
  readonly exits: number[] = [];
  private exited: (code: number) => void = () => undefined;
  readonly exitedOnce = new Promise<number>((resolve) => (this.exited = resolve));
  exit(code: number): void {
    this.exits.push(code);
    this.exited(code);
  }
}

/** Runs a service on a stand-in process and returns that process. */
async function run(
  start: (control: ServiceControl) => Promise<void>,
  shutdownTimeoutMs = 60_000,
): Promise<FakeProcess> {
  const proc = new FakeProcess();
  await runService({ logger: silentLogger, shutdownTimeoutMs, proc, start });
  return proc;
}

describe('runService', () => {
  test('a signal runs the shutdown steps in reverse order, then exits 0', async () => {
    const order: string[] = [];
    const proc = await run(async (control) => {
      control.onShutdown(() => void order.push('redis'));
      control.onShutdown(async () => {
        await Promise.resolve();
        order.push('service');
      });
    });
    proc.emit('SIGTERM');
    assert.equal(await proc.exitedOnce, 0);
    assert.deepEqual(order, ['service', 'redis']);
  });

  test('a second signal exits 1 at once; a failing step exits 1', async () => {
    let release: () => void = () => undefined;
    const proc = await run(async (control) =>
      control.onShutdown(() => new Promise<void>((r) => (release = r))),
    );
    proc.emit('SIGINT');
    proc.emit('SIGTERM');
    assert.deepEqual(proc.exits, [1]);
    release();

    const failing = await run(async (control) =>
      control.onShutdown(() => {
        throw new Error('cannot close');
      }),
    );
    failing.emit('SIGTERM');
    assert.equal(await failing.exitedOnce, 1);
  });

  test('a shutdown past its deadline exits 1', async () => {
    const proc = await run(async (control) => control.onShutdown(() => new Promise(() => undefined)), 1);
    proc.emit('SIGTERM');
    assert.equal(await proc.exitedOnce, 1);
  });

  test('shutdown(reason, code) exits with that code; a start cut short by it is not an error', async () => {
    const proc = await run(async (control) => {
      void control.shutdown('consumer-crash', 1);
      assert.equal(control.shuttingDown, true);
      throw new Error('stopped while starting');
    });
    assert.equal(await proc.exitedOnce, 1);
    await assert.rejects(
      run(async () => {
        throw new Error('no broker');
      }),
      /no broker/,
    );
  });
});

describe('runMain', () => {
  test('a fatal error, even thrown synchronously, exits 1', async () => {
    const proc = new FakeProcess();
    await runMain(
      'widget',
      ({ createLogger }) => {
        createLogger('silent');
        throw new Error('bad config');
      },
      proc,
    );
    assert.deepEqual(proc.exits, [1]);
    const ok = new FakeProcess();
    await runMain('widget', async () => undefined, ok);
    assert.deepEqual(ok.exits, []);
  });
});

describe('exit codes', () => {
  test('configuration errors are 78, infrastructure that does not answer 69, anything else 1', async () => {
    const { ConfigError, ModelError, SmaeError } = await import('../../../shared/errors.js');
    assert.equal(exitCodeFor(new ConfigError('bad', [])), EXIT_CODES.config);
    assert.equal(exitCodeFor(new ModelError('INCOMPATIBLE_MODEL', 'schema')), EXIT_CODES.config);
    assert.equal(exitCodeFor(new SmaeError('INFRA_UNAVAILABLE', 'redis')), EXIT_CODES.unavailable);
    const kafkajs = Object.assign(new Error('Connection error'), { name: 'KafkaJSNumberOfRetriesExceeded' });
    assert.equal(exitCodeFor(kafkajs), EXIT_CODES.unavailable);
    const refused = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
    assert.equal(exitCodeFor(new Error('wrapped', { cause: refused })), EXIT_CODES.unavailable);
    assert.equal(exitCodeFor(new Error('bug')), EXIT_CODES.failure);
    assert.equal(exitCodeFor(new SmaeError('DECODE_FAILED', 'x')), EXIT_CODES.failure);
  });

  test('runMain exits with the code of the error', async () => {
    const { ConfigError } = await import('../../../shared/errors.js');
    const proc = new FakeProcess();
    await runMain(
      'widget',
      ({ createLogger }) => {
        createLogger('silent');
        throw new ConfigError('bad', [{ path: 'x', message: 'y' }]);
      },
      proc,
    );
    assert.deepEqual(proc.exits, [78]);
  });
});
