/**
 * The one place the project imports TensorFlow.js.
 *
 * Importing `@tensorflow/tfjs` in Node.js has two side effects we do not want in services:
 * - the cpu backend prints a "Hi, looks like you are running TensorFlow.js in Node.js" banner through
 *   `console.warn` the first time it allocates a tensor;
 * - the webgl backend is registered with the highest priority, so the first tensor op tries (and fails)
 *   to create a WebGL context before falling back to cpu.
 * Production mode silences tfjs' own warnings (every tfjs warning goes through `env PROD`) and skips
 * debug-only checks; webgl is unregistered because it can never work in Node.js. Our own choice of
 * backend is made and logged by `backend.ts`.
 */
import * as tf from '@tensorflow/tfjs';

tf.enableProdMode();
if (tf.findBackendFactory('webgl') !== null) tf.removeBackend('webgl');

export { tf };
