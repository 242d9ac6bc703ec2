/**
 * Redis for the demo: the configured one (REDIS_URL) if it answers; otherwise, when the URL names this
 * machine and `redis-server` is installed, a local server started in the background (no persistence,
 * left running for the next run, like the local Kafka broker).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';
import { SmaeError } from '../../shared/errors.js';
import { pingRedis } from '../../shared/redis/client.js';

export interface RedisUp {
  url: string;
  outcome: 'reused' | 'started';
}

function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

export async function ensureRedis(
  url: string,
  progress: (line: string) => void = () => undefined,
): Promise<RedisUp> {
  if (await pingRedis(url, 1500)) return { url, outcome: 'reused' };
  const parsed = new URL(url);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(parsed.hostname);
  if (!local || !onPath('redis-server')) {
    throw new SmaeError(
      'INFRA_UNAVAILABLE',
      `Redis does not answer at ${parsed.host}` +
        (local
          ? ': install it (apt-get install redis-server, or brew install redis) or set REDIS_URL to a running server'
          : ': check REDIS_URL'),
    );
  }
  const port = parsed.port || '6379';
  const dir = join(REPO_ROOT, '.cache', 'redis');
  mkdirSync(dir, { recursive: true });
  progress(`starting redis-server on 127.0.0.1:${port} (data in ${dir}, no persistence)`);
  const child = spawn(
    'redis-server',
    [
      '--port',
      port,
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--logfile',
      join(dir, 'redis.log'),
    ],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await pingRedis(url, 500)) return { url, outcome: 'started' };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new SmaeError(
    'INFRA_UNAVAILABLE',
    `redis-server did not answer at 127.0.0.1:${port}; see ${join(dir, 'redis.log')}`,
  );
}
