import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { ConfigError } from '../../../shared/errors.js';
import { pingRedis, redactUrl, redisUrlFromEnv } from '../../../shared/redis/client.js';

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
