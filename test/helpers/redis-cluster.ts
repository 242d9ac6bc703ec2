/**
 * A private, real Redis Cluster for integration tests: three primaries from `redis-server
 * --cluster-enabled yes` on loopback ports (default from 17000; cluster bus on port + 10000), joined with
 * `redis-cli --cluster create … --cluster-replicas 0`, data in a folder under .cache/ that is removed
 * afterwards. `stop()` shuts every node down (SHUTDOWN NOSAVE, then SIGKILL) and deletes the folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';

export interface LocalRedisCluster {
  ports: number[];
  /** REDIS_URL for the project's clients: a seed node with `?cluster=true`. */
  url: string;
  stop(): Promise<void>;
}

/** Why a cluster cannot be started here, or undefined when redis-server and redis-cli are installed. */
export function redisClusterUnavailable(): string | undefined {
  for (const bin of ['redis-server', 'redis-cli']) {
    const res = spawnSync(bin, ['--version'], { stdio: 'ignore' });
    if (res.error !== undefined || res.status !== 0)
      return `${bin} is not installed (Debian package redis-server)`;
  }
  return undefined;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      res(false);
    });
    sock.once('error', () => res(true));
  });
}

function cli(port: number, ...args: string[]): { status: number | null; out: string } {
  const res = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline)
      throw new Error(`redis cluster: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts three primaries on the first free ports of [firstPort, lastPort] and forms the cluster. */
export async function startRedisCluster(firstPort = 17000, lastPort = 17010): Promise<LocalRedisCluster> {
  const ports: number[] = [];
  for (let p = firstPort; p <= lastPort && ports.length < 3; p++) {
    if ((await portFree(p)) && (await portFree(p + 10000))) ports.push(p);
  }
  if (ports.length < 3)
    throw new Error(`no three free ports in ${firstPort}-${lastPort} for a Redis Cluster`);
  const dir = join(REPO_ROOT, '.cache', `redis-cluster-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of ports) cli(p, 'shutdown', 'nosave');
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.exitCode !== null || c.signalCode !== null) return res();
            const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(timer);
              res();
            });
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir, { recursive: true });
      // Its own process (not detached): it dies with the test process at worst.
      children.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(nodeDir, 'nodes.conf'),
            '--cluster-node-timeout',
            '5000',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            nodeDir,
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of ports)
      await until(() => cli(port, 'ping').out.includes('PONG'), `node ${port} answering`);
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8' },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    for (const port of ports) {
      await until(
        () => cli(port, 'cluster', 'info').out.includes('cluster_state:ok'),
        `node ${port} cluster_state:ok`,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, url: `redis://127.0.0.1:${ports[0]}?cluster=true`, stop };
}
