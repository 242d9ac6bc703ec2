/**
 * ensurePipelineTopics against the real broker: creates the pipeline's topics with the configured
 * partitions (model updates compacted, one partition), is idempotent, tolerates concurrent callers,
 * and reports (without altering) an existing topic that differs from its spec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import { kafkajsAdmin } from '../../shared/kafka/kafkajs-admin.js';
import { testAdmin, uniquePipeline } from '../helpers/infra.js';

async function partitionCounts(admin: Admin, topics: string[]): Promise<Record<string, number>> {
  const meta = await admin.fetchTopicMetadata({ topics });
  return Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
}

async function cleanupPolicy(admin: Admin, topic: string): Promise<string | undefined> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }],
  });
  return resources[0]?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue;
}

test('creates every pipeline topic with its layout, then is a no-op', async (t) => {
  const names = uniquePipeline(t);
  const admin = await testAdmin(t);
  const all = Object.values(names.topics);

  const first = await ensurePipelineTopics(kafkajsAdmin(admin), names, { partitions: 3 });
  assert.deepEqual([...first.created].sort(), [...all].sort());
  assert.deepEqual(first.existing, []);

  assert.deepEqual(await partitionCounts(admin, all), {
    [names.topics.records]: 3,
    [names.topics.flags]: 3,
    [names.topics.scores]: 3,
    [names.topics.deadLetters]: 3,
    [names.topics.modelUpdates]: 1,
  });
  assert.equal(await cleanupPolicy(admin, names.topics.modelUpdates), 'compact');
  assert.equal(await cleanupPolicy(admin, names.topics.records), 'delete');

  const second = await ensurePipelineTopics(kafkajsAdmin(admin), names, { partitions: 3 });
  assert.deepEqual(second.created, []);
  assert.deepEqual([...second.existing].sort(), [...all].sort());
  assert.deepEqual(second.mismatches, []);
});

test('concurrent callers both succeed and the topics exist once', async (t) => {
  const names = uniquePipeline(t);
  const admin = await testAdmin(t);
  const other = await testAdmin(t);

  const results = await Promise.all([
    ensurePipelineTopics(kafkajsAdmin(admin), names, { partitions: 2 }),
    ensurePipelineTopics(kafkajsAdmin(other), names, { partitions: 2 }),
  ]);
  const createdByEither = new Set(results.flatMap((r) => r.created));
  assert.equal(createdByEither.size, 5);
  const topics = (await admin.listTopics()).filter((name) => name.startsWith(`${names.name}.`));
  assert.equal(topics.length, 5);
});

test('an existing topic with fewer partitions or another cleanup policy is reported, not changed', async (t) => {
  const names = uniquePipeline(t);
  const admin = await testAdmin(t);
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: names.topics.records, numPartitions: 1 },
      { topic: names.topics.modelUpdates, numPartitions: 1 },
    ],
  });

  const result = await ensurePipelineTopics(kafkajsAdmin(admin), names, { partitions: 4 });
  assert.deepEqual([...result.existing].sort(), [names.topics.records, names.topics.modelUpdates].sort());
  assert.equal(result.created.length, 3);
  assert.deepEqual(
    [...result.mismatches].sort((a, b) => a.topic.localeCompare(b.topic)),
    [
      { topic: names.topics.modelUpdates, issue: 'cleanup.policy is delete, compact wanted' },
      { topic: names.topics.records, issue: 'has 1 partitions, 4 wanted' },
    ].sort((a, b) => a.topic.localeCompare(b.topic)),
  );
  assert.equal((await partitionCounts(admin, [names.topics.records]))[names.topics.records], 1);
  assert.equal(await cleanupPolicy(admin, names.topics.modelUpdates), 'delete');
});
