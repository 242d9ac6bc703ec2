/**
 * The pipeline's topics, created idempotently: every service may call `ensurePipelineTopics` at start-up
 * (and concurrently: a topic created by another caller in the meantime counts as present).
 *
 * Per pipeline (names from `shared/pipeline.ts`):
 *   records, flags, scores, dlq   `partitions` each (the scorer's parallelism; flags and scores keep the
 *                                 input partitioning so per-key order survives)
 *   models                        1 partition, compacted: the latest model announcement per key is
 *                                 all a late joiner needs, and one partition keeps them totally ordered
 *
 * Existing topics are never altered (partition counts cannot shrink and growing them re-maps keys);
 * differences from the wanted layout are reported in the result and logged as warnings.
 *
 * Callers go through the port (`KafkaAdmin.ensureTopics`, or `ensurePipelineTopics` here); `ensureTopics`
 * is its implementation on kafkajs's admin, which both adapters use (`ports.ts`).
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { silentLogger, type Logger } from '../log.js';
import type { PipelineNames } from '../pipeline.js';
import type { EnsureTopicsResult, KafkaAdmin, TopicSpec } from './port.js';

export interface PipelineTopicOptions {
  /** Partitions of the records, flags, scores and dead-letter topics. */
  partitions: number;
  /** Default: the broker's default. Production clusters want 3. */
  replicationFactor?: number;
  /** retention.ms of the records/flags/scores/dlq topics; default: the broker's. */
  retentionMs?: number;
}

/** The topic specs of a pipeline (pure: what `ensurePipelineTopics` creates). */
export function pipelineTopicSpecs(names: PipelineNames, opts: PipelineTopicOptions): TopicSpec[] {
  if (!Number.isInteger(opts.partitions) || opts.partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${opts.partitions}`);
  }
  const rf = opts.replicationFactor !== undefined ? { replicationFactor: opts.replicationFactor } : {};
  const retention =
    opts.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(opts.retentionMs) }] : [];
  const data = (topic: string): TopicSpec => ({
    topic,
    numPartitions: opts.partitions,
    ...rf,
    ...(retention.length > 0 ? { configEntries: retention } : {}),
  });
  return [
    data(names.topics.records),
    data(names.topics.flags),
    data(names.topics.scores),
    data(names.topics.deadLetters),
    {
      topic: names.topics.modelUpdates,
      numPartitions: 1,
      ...rf,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    },
  ];
}

/** Creates the pipeline's topics that do not exist yet; see the module comment. */
export async function ensurePipelineTopics(
  admin: Pick<KafkaAdmin, 'ensureTopics'>,
  names: PipelineNames,
  opts: PipelineTopicOptions & { logger?: Logger },
): Promise<EnsureTopicsResult> {
  return admin.ensureTopics(pipelineTopicSpecs(names, opts), opts.logger);
}

/** Creates the topics of `specs` that do not exist (waiting for their leaders); checks the others. */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  logger: Logger = silentLogger,
): Promise<EnsureTopicsResult> {
  const log = logger.child({ component: 'topics' });
  const existingNames = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existingNames.has(s.topic));
  const present = specs.filter((s) => existingNames.has(s.topic));

  const created: string[] = [];
  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.numPartitions,
      ...(s.replicationFactor !== undefined ? { replicationFactor: s.replicationFactor } : {}),
      ...(s.configEntries !== undefined ? { configEntries: s.configEntries } : {}),
    }));
    // kafkajs resolves false (instead of throwing) when every failure is TOPIC_ALREADY_EXISTS, i.e. a
    // concurrent caller won the race: the topic exists either way.
    await admin.createTopics({ topics, waitForLeaders: true });
    const after = new Set(await admin.listTopics());
    for (const s of missing) {
      if (!after.has(s.topic)) throw new Error(`topic ${s.topic} was not created`);
      created.push(s.topic);
    }
    log.info({ topics: created }, 'created topics');
  }

  const mismatches = present.length > 0 ? await checkExisting(admin, present) : [];
  for (const m of mismatches) log.warn(m, 'existing topic differs from its spec; left unchanged');
  return { created, existing: present.map((s) => s.topic), mismatches };
}

async function checkExisting(admin: Admin, specs: TopicSpec[]): Promise<{ topic: string; issue: string }[]> {
  const issues: { topic: string; issue: string }[] = [];
  const meta = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
  const partitions = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  for (const s of specs) {
    const n = partitions.get(s.topic);
    if (n !== undefined && n < s.numPartitions) {
      issues.push({ topic: s.topic, issue: `has ${n} partitions, ${s.numPartitions} wanted` });
    }
  }
  const compacted = specs.filter((s) => s.configEntries?.some((c) => c.name === 'cleanup.policy'));
  if (compacted.length > 0) {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      // 2 = ConfigResourceTypes.TOPIC (kafkajs does not expose that enum as an ESM named export).
      resources: compacted.map((s) => ({ type: 2, name: s.topic, configNames: ['cleanup.policy'] })),
    });
    for (const r of resources) {
      const wanted = compacted
        .find((s) => s.topic === r.resourceName)
        ?.configEntries?.find((c) => c.name === 'cleanup.policy')?.value;
      const actual = r.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue;
      if (wanted !== undefined && actual !== undefined && actual !== wanted) {
        issues.push({ topic: r.resourceName, issue: `cleanup.policy is ${actual}, ${wanted} wanted` });
      }
    }
  }
  return issues;
}
