/**
 * TensorFlow.js backend selection: chosen once per process, logged, recorded in every artifact.
 *
 * - `tensorflow` — `@tensorflow/tfjs-node` (native libtensorflow). An optional dependency: its install
 *   downloads libtensorflow, which fails on machines without that network access, so it is imported
 *   dynamically and its absence is not an error under `auto`.
 * - `cpu` — the pure-JavaScript backend of `@tensorflow/tfjs`; the fallback, always available.
 * - `wasm` — `@tensorflow/tfjs-backend-wasm`; only when forced (measured by `npm run bench:model`).
 *
 * tfjs backends are process-global, so the choice is too: a second call with a different forced choice
 * is a configuration error rather than a silent switch under a running model.
 */
import { ConfigError, ModelError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { tf } from './tf.js';

export type BackendName = 'tensorflow' | 'cpu' | 'wasm';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'cpu', 'wasm'];

export interface InitBackendOptions {
  /** `auto` (default) tries tensorflow then cpu; a name forces that backend or fails. */
  prefer?: BackendName | 'auto';
  logger?: Logger;
}

let chosen: BackendName | null = null;
let pending: Promise<BackendName> | null = null;

/** Chooses the backend (idempotent). Forced but unavailable: `BACKEND_UNAVAILABLE`. */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendName> {
  const prefer = opts.prefer ?? 'auto';
  if (prefer !== 'auto' && !BACKEND_NAMES.includes(prefer)) {
    throw new ConfigError(`unknown TensorFlow.js backend "${String(prefer)}"`, [
      { path: 'backend', message: `expected auto, ${BACKEND_NAMES.join(', ')}` },
    ]);
  }
  if (chosen === null && pending === null) {
    pending = select(prefer, opts.logger ?? silentLogger).finally(() => {
      pending = null;
    });
  }
  const backend = chosen ?? (await pending!);
  if (prefer !== 'auto' && prefer !== backend) {
    throw new ConfigError(
      `TensorFlow.js backend already initialised as "${backend}"; cannot switch to "${prefer}"`,
      [{ path: 'backend', message: `the backend is chosen once per process (it is ${backend})` }],
    );
  }
  return backend;
}

/**
 * The backend in use. If nothing chose one yet (a script or test that never called `initBackend`), tfjs'
 * own default is taken — cpu here, since webgl is unregistered and tfjs-node is only loaded on request.
 */
export function activeBackend(): BackendName {
  if (chosen === null) {
    tf.backend(); // initialises tfjs' best registered backend synchronously if none is active yet
    chosen = asBackendName(tf.getBackend());
  }
  return chosen;
}

async function select(prefer: BackendName | 'auto', logger: Logger): Promise<BackendName> {
  const t0 = performance.now();
  let backend: BackendName;
  if (prefer === 'auto') {
    try {
      backend = await load('tensorflow');
    } catch (err) {
      logger.info(
        { reason: (err as Error).message },
        '@tensorflow/tfjs-node not available; using the cpu backend',
      );
      backend = await load('cpu');
    }
  } else {
    backend = await load(prefer);
  }
  chosen = backend;
  logger.info(
    { backend, prefer, tfjsVersion: tf.version.tfjs, initMs: Math.round(performance.now() - t0) },
    'TensorFlow.js backend selected',
  );
  return backend;
}

async function load(name: BackendName): Promise<BackendName> {
  try {
    if (name === 'tensorflow') {
      // A computed specifier: the package is optional, so TypeScript must not try to resolve it.
      const specifier = '@tensorflow/tfjs-node';
      await import(specifier);
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    }
    if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend("${name}") returned false`);
    await tf.ready();
    return name;
  } catch (err) {
    throw new ModelError(
      'BACKEND_UNAVAILABLE',
      `TensorFlow.js backend "${name}" is unavailable: ${(err as Error).message}`,
      {
        cause: err,
        details: { backend: name },
      },
    );
  }
}

function asBackendName(name: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new ModelError('BACKEND_UNAVAILABLE', `unexpected TensorFlow.js backend "${name}" is active`);
}
