/**
 * The real schema registry for integration tests (Apicurio Registry, tools/infra/kafka/schema-registry.ts):
 * test/run.ts brings it up before the integration tests that need it and passes its URL as
 * SMAE_TEST_SCHEMA_REGISTRY_URL; run directly (`node --import tsx --test …`) a test brings it up itself.
 * Subjects are namespaced by the tests' unique topic names; in-memory storage forgets them at its stop.
 *
 * `registryProxy` puts a TCP relay in front of it, so a test can make the registry "go away" and come back
 * without restarting a JVM: the relay refuses and drops connections while closed.
 */
import type { TestContext } from 'node:test';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { ensureRegistry, registryOptionsFromEnv } from '../../tools/infra/kafka/schema-registry.js';

let url: Promise<string> | undefined;

/** The Confluent-compatible API of the test registry (started on first use if test/run.ts did not). */
export function testRegistryUrl(): Promise<string> {
  url ??= process.env.SMAE_TEST_SCHEMA_REGISTRY_URL
    ? Promise.resolve(process.env.SMAE_TEST_SCHEMA_REGISTRY_URL)
    : ensureRegistry(registryOptionsFromEnv(process.env)).then((r) => r.url);
  return url;
}

export interface RegistryProxy {
  /** The registry's API through the relay. */
  url: string;
  /** Drops every connection and refuses new ones until `open()`. */
  close(): Promise<void>;
  open(): Promise<void>;
}

/** A TCP relay to the registry on a fixed local port, stopped when the test ends. */
export async function registryProxy(t: TestContext, target: string): Promise<RegistryProxy> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((res, rej) => {
      const s = createServer((client) => {
        const upstream = connect(Number(to.port), to.hostname);
        sockets.add(client).add(upstream);
        const drop = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      s.once('error', rej);
      s.listen(port, '127.0.0.1', () => {
        const a = s.address();
        port = typeof a === 'object' && a !== null ? a.port : port;
        server = s;
        res();
      });
    });
  const close = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s !== undefined) await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();
  t.after(close);
  return {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    close,
    open: () => (server === undefined ? listen() : Promise.resolve()),
  };
}
