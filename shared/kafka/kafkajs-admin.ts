/**
 * The port's admin (`KafkaAdmin`) on kafkajs's admin client. Both adapters use it for topic
 * administration: librdkafka's admin client here cannot read topic configurations (`ports.ts`).
 */
import type { Admin } from 'kafkajs';
import { committedOffsetsOf } from './kafkajs-shapes.js';
import type { KafkaAdmin } from './port.js';
import { ensureTopics } from './topics.js';

/** `max.message.bytes` of each of `topics` whose configuration could be read. */
async function maxMessageBytes(a: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const res = await a.describeConfigs({
    includeSynonyms: false,
    resources: [...new Set(topics)].map((name) => ({
      type: 2, // ConfigResourceTypes.TOPIC
      name,
      configNames: ['max.message.bytes'],
    })),
  });
  const out = new Map<string, number>();
  for (const r of res.resources) {
    const n = Number(r.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
    if (r.errorCode === 0 && Number.isFinite(n) && n > 0) out.set(r.resourceName, n);
  }
  return out;
}

/** The port's admin over a kafkajs admin client (its high offsets are last stable offsets). */
export function kafkajsAdmin(a: Admin): KafkaAdmin {
  return {
    connect: () => a.connect(),
    disconnect: () => a.disconnect(),
    committedOffsets: async (groupId, topic) =>
      committedOffsetsOf(await a.fetchOffsets({ groupId, topics: [topic] }), topic),
    maxMessageBytes: (topics) => maxMessageBytes(a, topics),
    listTopics: () => a.listTopics(),
    ensureTopics: (specs, logger) => ensureTopics(a, specs, logger),
    topicOffsets: async (topic) =>
      (await a.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({ partition, low, high })),
    deleteTopics: (topics) => a.deleteTopics({ topics: [...topics] }),
    deleteGroups: async (groupIds) => {
      await a.deleteGroups([...groupIds]);
    },
  };
}
