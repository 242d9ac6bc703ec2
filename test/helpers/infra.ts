/**
 * Isolation and clean-up for integration tests against the real Kafka and Redis.
 *
 * Every factory takes the node:test context `t`, makes a unique name (randomUUID) so tests never see
 * each other's data, and registers the clean-up with `t.after`. Clean-ups of one test run in reverse
 * order of registration (a consumer is disconnected before its group is deleted, a topic is deleted
 * after the producer writing to it is gone), and a failing clean-up never fails the test.
 *
 * Connections come from the environment the test runner sets (KAFKA_BROKERS, REDIS_URL); see test/run.ts.
 */
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import type {
  Admin,
  Consumer,
  ConsumerConfig,
  ITopicConfig,
  Kafka,
  KafkaMessage,
  Producer,
  ProducerConfig,
} from 'kafkajs';
import type { Redis } from 'ioredis';
import { createKafka, kafkaConnectionFromEnv, type KafkaConnection } from '../../shared/kafka/client.js';
import type { KafkaPort } from '../../shared/kafka/port.js';
import { createKafkaPort } from '../../shared/kafka/ports.js';
import { createRedis, deleteKeysByPrefix, redisUrlFromEnv } from '../../shared/redis/client.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';
import { waitFor } from './wait.js';

type CleanupFn = () => unknown;
const stacks = new WeakMap<TestContext, CleanupFn[]>();

/** Runs `fn` when test `t` ends, before clean-ups registered earlier. Errors are swallowed. */
export function onCleanup(t: TestContext, fn: CleanupFn): void {
  let stack = stacks.get(t);
  if (stack === undefined) {
    const created: CleanupFn[] = [];
    stack = created;
    stacks.set(t, created);
    t.after(async () => {
      while (created.length > 0) {
        const next = created.pop() as CleanupFn;
        try {
          await next();
        } catch {
          // Best effort: a leftover uniquely named topic or key harms no other test.
        }
      }
    });
  }
  stack.push(fn);
}

/** `<prefix>-<uuid>`: valid as a topic, group, pipeline name and Redis key part. */
export function uniqueName(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

// --- Kafka ---------------------------------------------------------------------------------------

export function testKafkaConnection(clientId = 'smae-test'): KafkaConnection {
  return { ...kafkaConnectionFromEnv(process.env, { clientId }), logLevel: 'nothing' };
}

/** A kafkajs client for tests (quiet: failures surface as thrown errors, not log lines). */
export function testKafka(clientId?: string): Kafka {
  return createKafka(testKafkaConnection(clientId));
}

/** The Kafka port as services build it (`createKafkaPort`: kafkajs unless KAFKA_CLIENT says otherwise). */
export function testPort(clientId?: string): KafkaPort {
  return createKafkaPort(testKafkaConnection(clientId));
}

/** A connected admin client, disconnected when the test ends. */
export async function testAdmin(t: TestContext): Promise<Admin> {
  const admin = testKafka('smae-test-admin').admin();
  await admin.connect();
  onCleanup(t, () => admin.disconnect());
  return admin;
}

/** Deletes the topics that exist among `topics` with a short-lived admin client. */
async function deleteTopicsIfPresent(topics: string[]): Promise<void> {
  const admin = testKafka('smae-test-cleanup').admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((name) => existing.has(name));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

async function deleteGroupsQuietly(groups: string[]): Promise<void> {
  const admin = testKafka('smae-test-cleanup').admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

export interface TopicOptions {
  prefix?: string;
  partitions?: number;
  configEntries?: ITopicConfig['configEntries'];
}

/** Creates a uniquely named topic (waiting for its leaders), deleted when the test ends. */
export async function uniqueTopic(t: TestContext, opts: TopicOptions = {}): Promise<string> {
  const topic = uniqueName(opts.prefix ?? 'test');
  const admin = await testAdmin(t);
  onCleanup(t, () => deleteTopicsIfPresent([topic]));
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: opts.partitions ?? 1,
        replicationFactor: 1,
        ...(opts.configEntries !== undefined ? { configEntries: opts.configEntries } : {}),
      },
    ],
  });
  return topic;
}

/** A unique consumer group id; the group is deleted when the test ends (after its consumers left). */
export function uniqueGroup(t: TestContext, prefix = 'test-group'): string {
  const group = uniqueName(prefix);
  onCleanup(t, () => deleteGroupsQuietly([group]));
  return group;
}

/**
 * A unique pipeline (`pipelineNames`) whose topics, groups and Redis keys are removed when the test
 * ends. Creates nothing itself: the code under test (or `ensurePipelineTopics`) does.
 */
export function uniquePipeline(t: TestContext, prefix = 't'): PipelineNames {
  const names = pipelineNames(uniqueName(prefix));
  onCleanup(t, () => deleteRedisKeys(names.redisPrefix));
  onCleanup(t, () => deleteTopicsIfPresent(Object.values(names.topics)));
  onCleanup(t, () => deleteGroupsQuietly(Object.values(names.groups)));
  return names;
}

/** A connected producer, disconnected when the test ends. */
export async function testProducer(t: TestContext, config: ProducerConfig = {}): Promise<Producer> {
  const producer = testKafka('smae-test-producer').producer({ allowAutoTopicCreation: false, ...config });
  await producer.connect();
  onCleanup(t, () => producer.disconnect());
  return producer;
}

/**
 * A connected consumer, disconnected when the test ends. Fetches wait at most 500 ms for data (kafkajs
 * default 5 s), because stopping a consumer waits for its pending fetch.
 */
export async function testConsumer(t: TestContext, config: ConsumerConfig): Promise<Consumer> {
  const consumer = testKafka('smae-test-consumer').consumer({ maxWaitTimeInMs: 500, ...config });
  await consumer.connect();
  onCleanup(t, () => consumer.disconnect());
  return consumer;
}

export type ConsumedMessage = KafkaMessage & { topic: string; partition: number };

/**
 * Consumes `count` messages of `topic` from the beginning in consumer group `groupId` (a unique one by
 * default), then stops the consumer. Fails if they do not all arrive within `timeoutMs`.
 */
export async function consumeMessages(
  t: TestContext,
  opts: {
    topic: string;
    count: number;
    groupId?: string;
    timeoutMs?: number;
    consumer?: Omit<ConsumerConfig, 'groupId'>;
  },
): Promise<ConsumedMessage[]> {
  const groupId = opts.groupId ?? uniqueGroup(t);
  const consumer = await testConsumer(t, { ...opts.consumer, groupId });
  const received: ConsumedMessage[] = [];
  await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      received.push({ ...message, topic, partition });
    },
  });
  try {
    await waitFor(() => received.length >= opts.count, {
      timeoutMs: opts.timeoutMs ?? 60_000,
      message: () => `${opts.count} messages on ${opts.topic} (got ${received.length})`,
    });
  } finally {
    await consumer.stop();
  }
  return received;
}

// --- Redis ---------------------------------------------------------------------------------------

/** A Redis client for REDIS_URL, closed when the test ends. */
export async function testRedis(t: TestContext): Promise<Redis> {
  const redis = createRedis(redisUrlFromEnv(process.env), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  onCleanup(t, () => redis.quit().catch(() => redis.disconnect()));
  return redis;
}

/**
 * A Redis client for REDIS_URL that connects in the background (commands queue until it has), closed when
 * the test ends; for tests that build many clients inline.
 */
export function redisClient(t: TestContext): Redis {
  const redis = createRedis(redisUrlFromEnv(process.env), { maxRetriesPerRequest: 2 });
  onCleanup(t, () => redis.quit().catch(() => redis.disconnect()));
  return redis;
}

/** A unique pipeline name whose Redis keys (`smae:{<name>}:*`: registry, window, queues) go when the test ends. */
export function uniqueRedisPipeline(t: TestContext, prefix = 'test'): string {
  const names = pipelineNames(uniqueName(prefix));
  onCleanup(t, () => deleteRedisKeys(names.redisPrefix));
  return names.name;
}

/** A unique key prefix (`smae:test:{<uuid>}:`); every key under it is deleted when the test ends. */
export function uniqueRedisPrefix(t: TestContext, prefix = 'smae:test'): string {
  const keyPrefix = `${prefix}:{${randomUUID()}}:`;
  onCleanup(t, () => deleteRedisKeys(keyPrefix));
  return keyPrefix;
}

async function deleteRedisKeys(keyPrefix: string): Promise<void> {
  const redis = createRedis(redisUrlFromEnv(process.env), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    await deleteKeysByPrefix(redis, keyPrefix);
  } finally {
    redis.disconnect();
  }
}
