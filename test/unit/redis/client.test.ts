import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { ConfigError } from '../../../shared/errors.js';
import {
  createRedis,
  isClusterUrl,
  pingRedis,
  redactUrl,
  redisUrlFromEnv,
} from '../../../shared/redis/client.js';
import { Cluster } from 'ioredis';

test('REDIS_URL defaults to the local server and accepts redis:// and rediss://', () => {
  assert.equal(redisUrlFromEnv({}), 'redis://127.0.0.1:6379');
  assert.equal(redisUrlFromEnv({ REDIS_URL: '  ' }), 'redis://127.0.0.1:6379');
  assert.equal(redisUrlFromEnv({ REDIS_URL: 'rediss://u:p@cache:6380/2' }), 'rediss://u:p@cache:6380/2');
});

test('REDIS_URL with another scheme or no URL at all is a ConfigError', () => {
  assert.throws(() => redisUrlFromEnv({ REDIS_URL: 'http://cache:6379' }), ConfigError);
  assert.throws(() => redisUrlFromEnv({ REDIS_URL: 'cache:6379:x y' }), ConfigError);
});

test('passwords are redacted for logs', () => {
  assert.equal(redactUrl('redis://user:hunter2@cache:6379/0'), 'redis://user:***@cache:6379/0');
  assert.equal(redactUrl('redis://cache:6379'), 'redis://cache:6379');
});

test('pingRedis is false, quickly, when nothing speaks Redis there', async () => {
  // A port that accepts connections but never answers, and a closed port.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => {
    sockets.push(socket);
  });
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()));
  const addr = silent.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  try {
    assert.equal(await pingRedis(`redis://127.0.0.1:${port}`, 200), false);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
  assert.equal(await pingRedis('redis://127.0.0.1:1', 200), false);
});

test('?cluster=true on REDIS_URL asks for Redis Cluster; other values of cluster are refused', () => {
  assert.equal(
    redisUrlFromEnv({ REDIS_URL: 'redis://n0:6379?cluster=true' }),
    'redis://n0:6379?cluster=true',
  );
  assert.equal(isClusterUrl('redis://n0:6379?cluster=true'), true);
  assert.equal(isClusterUrl('redis://n0:6379?cluster=false'), false);
  assert.equal(isClusterUrl('redis://n0:6379'), false);
  assert.throws(() => redisUrlFromEnv({ REDIS_URL: 'redis://n0:6379?cluster=yes' }), ConfigError);
});

test('createRedis returns an ioredis Cluster for a cluster URL, with the credentials of the URL', async () => {
  const client = createRedis('redis://u:p%40ss@127.0.0.1:1?cluster=true', { lazyConnect: true });
  try {
    assert.ok((client as unknown) instanceof Cluster);
    const opts = (client as unknown as Cluster).options.redisOptions;
    assert.equal(opts?.username, 'u');
    assert.equal(opts?.password, 'p@ss');
  } finally {
    client.disconnect();
  }
});
