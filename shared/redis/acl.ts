/**
 * Least privilege on Redis: one ACL user per service and pipeline, allowed only the keys and channels
 * that service needs (Redis 7 selectors: `%R~` read-only keys, `~` read-write keys, `&` channels).
 *
 * | service | keys (under `smae:{<p>}:` unless said)                                  | channels          |
 * | ------- | ------------------------------------------------------------------------ | ----------------- |
 * | scorer  | `models:*` read-only; `window` read-write                                | `models:events`   |
 * | trainer | `models:*` read-write; `trainer:*`                                        | `models:events`   |
 * | adapter | `models:*` read-write; `window` read-only; `adapter:*` (its state and BullMQ's queue) | `models:events` |
 * | alerts  | `alerts:*`                                                               | none              |
 *
 * So the scorer's credentials can read models and write the recent window but cannot publish a model
 * (the registry's commit script is refused with NOPERM at its first write), and alerts can touch nothing
 * but its own keys. Commands: everything but `@dangerous` (FLUSHALL, KEYS, CONFIG, ACL, DEBUG, …), plus
 * INFO, which ioredis's ready check and BullMQ need; key access is what the selectors restrict, inside
 * Lua scripts too. Give each service its user in `REDIS_URL` (`redis://<user>:<password>@host:6379`).
 *
 * `redisAclRules` returns the rules; `applyRedisAcl` runs `ACL SETUSER` with them (as an admin).
 */
import type { Redis } from 'ioredis';
import { pipelineNames } from '../pipeline.js';

export const REDIS_SERVICES = ['scorer', 'trainer', 'adapter', 'alerts'] as const;
export type RedisService = (typeof REDIS_SERVICES)[number];

/** The ACL user name of a service for a pipeline: `smae-<service>-<pipeline>`. */
export function redisAclUser(pipeline: string, service: RedisService): string {
  return `smae-${service}-${pipelineNames(pipeline).name}`;
}

/** The ACL rules (after `reset on >password`) of a service for a pipeline. */
export function redisAclRules(pipeline: string, service: RedisService): string[] {
  const names = pipelineNames(pipeline);
  const p = names.redisPrefix; // smae:{name}:
  const commands = ['+@all', '-@dangerous', '+info'];
  const events = `&${p}models:events`;
  switch (service) {
    case 'scorer':
      return [...commands, `%R~${p}models:*`, `~${p}window`, events];
    case 'trainer':
      return [...commands, `~${p}models:*`, `~${p}trainer:*`, events];
    case 'adapter':
      return [
        ...commands,
        `~${p}models:*`,
        `%R~${p}window`,
        // BullMQ's keys are `<queuePrefix>:adapter:*` = `smae:{p}:adapter:*`: covered by the line above.
        `~${p}adapter:*`,
        events,
      ];
    case 'alerts':
      return [...commands, `~${p}alerts:*`];
  }
}

/**
 * Creates or replaces the ACL user of each service given a password (as an admin connection). Returns
 * the user names. Passwords are sent to Redis only (never logged).
 */
export async function applyRedisAcl(
  admin: Redis,
  pipeline: string,
  passwords: Partial<Record<RedisService, string>>,
): Promise<Record<string, string>> {
  const users: Record<string, string> = {};
  for (const service of REDIS_SERVICES) {
    const password = passwords[service];
    if (password === undefined) continue;
    const user = redisAclUser(pipeline, service);
    await admin.call(
      'ACL',
      'SETUSER',
      user,
      'reset',
      'on',
      `>${password}`,
      ...redisAclRules(pipeline, service),
    );
    users[service] = user;
  }
  return users;
}
