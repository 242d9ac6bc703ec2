import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineTopicSpecs } from '../../../shared/kafka/topics.js';
import { pipelineNames } from '../../../shared/pipeline.js';

test('pipeline topics: data topics get the configured partitions, model updates are compacted with one', () => {
  const names = pipelineNames('fraud');
  const specs = pipelineTopicSpecs(names, { partitions: 6, replicationFactor: 3, retentionMs: 86_400_000 });
  assert.deepEqual(
    specs.map((s) => [s.topic, s.numPartitions, s.replicationFactor]),
    [
      ['fraud.records', 6, 3],
      ['fraud.flags', 6, 3],
      ['fraud.scores', 6, 3],
      ['fraud.dlq', 6, 3],
      ['fraud.models', 1, 3],
    ],
  );
  for (const s of specs.slice(0, 4))
    assert.deepEqual(s.configEntries, [{ name: 'retention.ms', value: '86400000' }]);
  assert.deepEqual(specs[4]?.configEntries, [{ name: 'cleanup.policy', value: 'compact' }]);
});

test('pipeline topics: replication and retention default to the broker', () => {
  const specs = pipelineTopicSpecs(pipelineNames('p'), { partitions: 1 });
  for (const s of specs) assert.equal('replicationFactor' in s, false);
  for (const s of specs.slice(0, 4)) assert.equal(s.configEntries, undefined);
});

test('pipeline topics: two pipelines share no topic', () => {
  const a = pipelineTopicSpecs(pipelineNames('a'), { partitions: 1 }).map((s) => s.topic);
  const b = new Set(pipelineTopicSpecs(pipelineNames('b'), { partitions: 1 }).map((s) => s.topic));
  assert.equal(
    a.some((t) => b.has(t)),
    false,
  );
});

test('pipeline topics: partitions must be a positive integer', () => {
  for (const partitions of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => pipelineTopicSpecs(pipelineNames('p'), { partitions }), RangeError);
  }
});
