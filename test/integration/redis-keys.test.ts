import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteKeysByPrefix } from '../../shared/redis/client.js';
import { testRedis, uniqueRedisPrefix } from '../helpers/infra.js';

test('deleteKeysByPrefix deletes exactly the keys under a literal prefix, glob characters included', async (t) => {
  const redis = await testRedis(t);
  const base = uniqueRedisPrefix(t);
  const prefix = `${base}{p*}:`;
  await redis.mset(`${prefix}a`, '1', `${prefix}b:c`, '2', `${base}{pX}:a`, '3', `${base}other`, '4');
  for (let i = 0; i < 1200; i++) await redis.set(`${prefix}bulk:${i}`, '1');

  assert.equal(await deleteKeysByPrefix(redis, prefix), 1202);
  assert.equal(await redis.exists(`${prefix}a`, `${prefix}b:c`, `${prefix}bulk:7`), 0);
  assert.equal(await redis.exists(`${base}{pX}:a`, `${base}other`), 2, 'keys outside the prefix stay');
});
