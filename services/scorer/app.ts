/**
 * The scorer, built from its dependencies (Kafka, Redis, a model source): `buildScorer(config, deps)`
 * returns an object to `start()` and `stop()`; `main.ts` wires real clients and signals, tests wire
 * their own.
 *
 * Life cycle:
 * 1. `start()` watches the registry and waits for a verified model that fits the configured record
 *    schema (not ready until then), then joins the consumer group and consumes.
 * 2. Each batch (one input partition's fetched records): lease the current model, decode + map + score
 *    as one tensor (`shared/scoring`), deliver flags, dead letters, scores and the consumed offsets
 *    (`delivery.ts`: one transaction per batch by default), then append sampled window entries to Redis.
 * 3. A new registry version is loaded off the batch path and installed between batches (`model-slot.ts`);
 *    a version that fails verification or does not fit the schema is refused, logged and counted, and the
 *    running model stays.
 * 4. `stop()` stops fetching, lets the batch in flight finish (its transaction commits) or aborts it when
 *    the shutdown timeout passes, leaves the group, closes producers and the watch.
 */
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { registerOutputSchemas } from '../../shared/avro/confluent-output.js';
import { RecordDecoder, type SchemaIdResolver } from '../../shared/avro/decoder.js';
import { schemaIdSource } from '../../shared/avro/schema-ids.js';
import { FLAG_SCHEMA, loadSchemaFile, SCORE_SCHEMA, type AvroType } from '../../shared/avro/schemas.js';
import type {
  GroupConsumer,
  GroupConsumerEvents,
  GroupConsumerOptions,
  KafkaAdmin,
  KafkaPort,
} from '../../shared/kafka/port.js';
import { TopicSizeLimits } from '../../shared/kafka/record-size.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { ConfigError } from '../../shared/errors.js';
import type { ModelArtifact } from '../../shared/model/artifact.js';
import { createMetricsRegistry } from '../../shared/ops/metrics.js';
import type { ProbeResult } from '../../shared/ops/server.js';
import { BatchScorer } from '../../shared/scoring/batch.js';
import type { ScoringModel } from '../../shared/scoring/model.js';
import { PartitionProgress } from '../../shared/scoring/progress.js';
import { windowStreamKey } from '../../shared/scoring/window.js';
import type { ScorerConfig } from './config.js';
import {
  AtLeastOnceDelivery,
  ExactlyOnceDelivery,
  type Delivery,
  type DeliveryOptions,
  type OutputTopics,
} from './delivery.js';
import { MemberDelivery } from './member-delivery.js';
import { handleBatch, type BatchDeps, type BatchInfo } from './handle-batch.js';
import { createScorerMetrics, type ScorerMetrics } from './metrics.js';
import { ModelSlot } from './model-slot.js';
import { ModelInstaller, recordFieldNames, type PublishedVersion } from './models.js';
import { WindowWriter } from './window-writer.js';

export type { BatchInfo, PublishedVersion };

/** What the scorer needs of the registry (`ModelRegistry` fits). */
export interface ModelSource {
  watch(
    onVersion: (m: PublishedVersion) => void | Promise<void>,
    opts?: { pollMs?: number; afterVersion?: number; onRejected?: (version: number, error: Error) => void },
  ): { close(): Promise<void> };
}

export interface ScorerDeps {
  /** The Kafka port (`kafkajsPort(kafka)` for kafkajs). */
  kafka: KafkaPort;
  /** For the window stream; without it no window is kept. */
  redis?: Redis | null;
  models: ModelSource;
  /** Builds a model from a verified artifact (`Detector.fromArtifact`); throws ModelError to refuse it. */
  loadModel: (artifact: ModelArtifact) => ScoringModel;
  logger?: Logger;
  /** Prometheus registry; a fresh one per scorer when absent. */
  metricsRegistry?: Registry;
  /** Overrides `config.recordSchema` (tests). */
  readerSchema?: AvroType;
  /** Overrides the schema id source derived from the config. */
  resolveSchemaId?: SchemaIdResolver;
  /** Called after each committed batch (tests, debugging). */
  onBatch?: (info: BatchInfo) => void;
  /** Called when the consumer stopped for good (a crash kafkajs will not restart from). */
  onFatal?: (err: Error) => void;
  /** Called for every model installed or refused. */
  onModel?: (event: { version: number; installed: boolean; error?: Error }) => void;
}

export interface Scorer {
  readonly metrics: ScorerMetrics;
  readonly metricsRegistry: Registry;
  readonly config: ScorerConfig;
  /** Resolves once a model is loaded and the consumer runs. Rejects if stopped first. */
  start(): Promise<void>;
  /** Graceful: finish (or abort) the batch in flight, leave the group, close clients. Idempotent. */
  stop(): Promise<void>;
  health(): ProbeResult;
  ready(): ProbeResult;
  /** Partitions currently assigned to this member. */
  assignment(): Record<string, number[]>;
  modelVersion(): number | null;
}

export function buildScorer(config: ScorerConfig, deps: ScorerDeps): Scorer {
  const log = (deps.logger ?? silentLogger).child({ component: 'scorer', pipeline: config.pipeline });
  const metricsRegistry =
    deps.metricsRegistry ?? createMetricsRegistry({ service: 'scorer', pipeline: config.pipeline });
  const progress = new PartitionProgress(config.stallTimeoutMs);
  const metrics = createScorerMetrics(metricsRegistry, progress);
  const window = windowWriterFor(config, deps.redis, metrics, log);
  const { readerSchema, batchScorer } = scoringFor(config, deps, window !== null);
  const slot = new ModelSlot();
  const startAbort = new AbortController();
  let stopping: Promise<void> | null = null;
  const group = new GroupMembership(log, metrics, progress, {
    onAssignment: (a) => delivery.onAssignment(a),
    onFatal: (err) => deps.onFatal?.(err),
    isStopping: () => stopping !== null,
  });
  const consumer = deps.kafka.groupConsumer(consumerOptions(config), group.events);
  const admin = deps.kafka.admin();
  const outputTopics = {
    flags: config.topics.flags,
    deadLetters: config.topics.deadLetters,
    scores: config.topics.scores,
  };
  // Output sends stay under each output topic's max.message.bytes (read at start) and maxSendBytes.
  const limits = new TopicSizeLimits(undefined, config.maxSendBytes);
  const delivery = deliveryFor(config, {
    kafka: deps.kafka,
    admin,
    consumer,
    outputTopics,
    limits,
    metrics,
    log,
  });
  const models = new ModelInstaller({
    slot,
    metrics,
    log,
    readerSchema,
    schemaPath: deps.readerSchema ? 'given' : config.recordSchema,
    loadModel: deps.loadModel,
    onModel: deps.onModel,
    onFirstUnfit: (err) => startAbort.abort(err),
  });
  const batchDeps: BatchDeps = {
    config,
    delivery,
    scorer: batchScorer,
    slot,
    metrics,
    progress,
    window,
    isRecordRejection: (err) => deps.kafka.isRecordRejection(err),
    log,
    onBatch: deps.onBatch,
  };

  let running = false;
  let loadingChain: Promise<void> = Promise.resolve();
  let watchHandle: { close(): Promise<void> } | null = null;
  const inFlight = new Set<Promise<unknown>>();

  async function start(): Promise<void> {
    if (running || stopping) throw new Error('scorer already started or stopped');
    running = true;
    if (config.schemaRegistryUrl) await frameOutputs(config, batchScorer, log);
    watchHandle = deps.models.watch(
      (m) => {
        // Loading can take a while (weights, backend): chain it so versions install in order.
        loadingChain = loadingChain.then(() => models.install(m));
        return loadingChain;
      },
      { pollMs: config.modelPollMs, onRejected: (v, err) => models.refuse(v, err) },
    );
    log.info({ pipeline: config.pipeline, delivery: delivery.mode }, 'waiting for a model');
    await slot.waitForModel(startAbort.signal);
    await admin.connect();
    await limits.load(admin, Object.values(outputTopics), log);
    log.info(
      Object.fromEntries(Object.values(outputTopics).map((t) => [t, limits.maxMessageBytes(t)])),
      'output size limits (bytes)',
    );
    await consumer.connect();
    await consumer.run({
      topics: [config.topics.input],
      fromBeginning: config.fromBeginning,
      concurrency: config.partitionsConcurrently,
      eachBatch: (batch, control) => {
        const p = handleBatch(batchDeps, batch, control);
        inFlight.add(p);
        return p.finally(() => inFlight.delete(p));
      },
    });
    log.info({ topic: config.topics.input, group: config.group }, 'consuming');
  }

  function stop(): Promise<void> {
    if (stopping) return stopping;
    stopping = (async () => {
      startAbort.abort(new Error('scorer stopped'));
      const deadline = new Promise<'timeout'>((r) =>
        setTimeout(() => r('timeout'), config.shutdownTimeoutMs).unref(),
      );
      // consumer.stop() waits for the batch in flight, whose transaction then commits.
      const stopped = await Promise.race([consumer.stop().then(() => 'stopped' as const), deadline]);
      if (stopped === 'timeout')
        log.warn('shutdown timeout: abandoning the batch in flight (its transaction is aborted)');
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
      await delivery.close(); // disconnecting a producer with an open transaction aborts it (broker-side on timeout)
      await consumer.disconnect().catch(() => undefined); // leaves the group
      await admin.disconnect().catch(() => undefined);
      await watchHandle?.close().catch(() => undefined);
      await loadingChain.catch(() => undefined);
      await window?.flush();
      slot.dispose();
      running = false;
      log.info('scorer stopped');
    })();
    return stopping;
  }

  return {
    metrics,
    metricsRegistry,
    config,
    start,
    stop,
    health: () =>
      group.crashed
        ? { ok: false, detail: { reason: `consumer crashed: ${group.crashed.message}` } }
        : { ok: true },
    ready: () =>
      readiness({
        modelVersion: slot.version,
        hasModel: slot.version !== null || slot.model !== null,
        group,
        delivery: delivery.mode,
        stopping: stopping !== null,
        stalled: progress.stalled(),
      }),
    assignment: () => group.assigned,
    modelVersion: () => slot.version,
  };
}

/**
 * The record decoder and the batch scorer the configuration asks for; refuses a non-record schema.
 * Without a window writer no window entries are built (`windowed` false).
 */
function scoringFor(
  config: ScorerConfig,
  deps: Pick<ScorerDeps, 'readerSchema' | 'resolveSchemaId'>,
  windowed: boolean,
): { readerSchema: AvroType; batchScorer: BatchScorer } {
  const readerSchema = deps.readerSchema ?? loadSchemaFile(config.recordSchema);
  recordFieldNames(readerSchema); // refuses a schema that is not a record
  const resolveSchemaId = deps.resolveSchemaId ?? schemaIdSource(config);
  const decoder = new RecordDecoder({
    readerSchema,
    wireFormat: config.wireFormat,
    ...(resolveSchemaId ? { resolveSchemaId } : {}),
  });
  const batchScorer = new BatchScorer({
    pipeline: config.pipeline,
    decoder,
    topK: config.topK,
    emitScores: config.emitScores,
    windowSampleRate: windowed ? config.windowSampleRate : 0,
    maxRecordBytes: config.maxRecordBytes,
    ...(config.keyField ? { keyField: config.keyField } : {}),
    ...(config.eventTimeField ? { eventTimeField: config.eventTimeField } : {}),
  });
  return { readerSchema, batchScorer };
}

/** The writer of sampled window entries to Redis; null without Redis or with the window off. */
function windowWriterFor(
  config: ScorerConfig,
  redis: Redis | null | undefined,
  metrics: ScorerMetrics,
  log: Logger,
): WindowWriter | null {
  if (!redis || config.windowMaxLen <= 0) return null;
  return new WindowWriter({
    redis,
    key: windowStreamKey(config.names.redisPrefix),
    maxLen: config.windowMaxLen,
    maxPerSecond: config.windowMaxPerSecond,
    logger: log,
    onWritten: (n) => metrics.windowEntries.inc(n),
    onDropped: (n) => metrics.windowDropped.inc(n),
    onSampledOut: (n) => metrics.windowSampledOut.inc(n),
    onError: () => metrics.windowErrors.inc(),
  });
}

function consumerOptions(config: ScorerConfig): GroupConsumerOptions {
  return {
    groupId: config.group,
    sessionTimeoutMs: config.sessionTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxBytesPerPartition: config.maxBytesPerPartition,
    maxBytes: config.fetchMaxBytes,
    maxWaitTimeMs: config.fetchMaxWaitMs,
    readCommitted: true,
  };
}

/** The scorer's membership of its consumer group, as the consumer's events tell it. */
class GroupMembership {
  assigned: Record<string, number[]> = {};
  joined = false;
  /** The error the consumer stopped for good with, if it did. */
  crashed: Error | null = null;
  readonly events: GroupConsumerEvents;

  constructor(
    log: Logger,
    metrics: ScorerMetrics,
    progress: PartitionProgress,
    on: {
      onAssignment(a: Record<string, number[]>): Promise<void>;
      /** The consumer stopped for good (not while the scorer stops). */
      onFatal(err: Error): void;
      isStopping(): boolean;
    },
  ) {
    this.events = {
      onAssignment: (assignment) => {
        this.assigned = assignment;
        this.joined = true;
        metrics.consumerLag.reset(); // partitions may have moved to other members
        progress.assigned(assignment);
        this.crashed = null;
        log.info({ assignment }, 'joined the consumer group');
        void on
          .onAssignment(assignment)
          .catch((err: unknown) => log.warn({ err }, 'releasing revoked partitions failed'));
      },
      onCrash: (error, restart) => {
        this.joined = false;
        log.error({ err: error?.message, restart }, 'consumer crashed');
        if (!restart && !on.isStopping()) {
          this.crashed = error;
          on.onFatal(error);
        }
      },
      onStop: () => {
        this.joined = false;
      },
    };
  }
}

/**
 * The delivery the configuration asks for, with its metrics wired. One transaction per member needs a
 * client whose offsets carry the group generation (`member-delivery.ts`): refused otherwise.
 */
function deliveryFor(
  config: ScorerConfig,
  d: {
    kafka: KafkaPort;
    admin: KafkaAdmin;
    consumer: GroupConsumer;
    outputTopics: OutputTopics;
    limits: TopicSizeLimits;
    metrics: ScorerMetrics;
    log: Logger;
  },
): Delivery {
  const { metrics } = d;
  const common: DeliveryOptions = {
    kafka: d.kafka,
    groupId: config.group,
    topics: d.outputTopics,
    logger: d.log,
    events: {
      onTransaction: (outcome: 'committed' | 'aborted') => metrics.transactions.inc({ outcome }),
      onFenced: () => metrics.fenced.inc(),
      onStage: (stage: 'send' | 'send_offsets' | 'commit', s: number) =>
        metrics.stageSeconds.observe({ stage }, s),
    },
    limits: d.limits,
  };
  if (config.delivery === 'at-least-once')
    return new AtLeastOnceDelivery({ ...common, consumer: d.consumer });
  const transactional = {
    ...common,
    admin: d.admin,
    transactionalIdPrefix: config.names.transactionalIdPrefix,
    transactionTimeoutMs: config.transactionTimeoutMs,
    retry: { initialRetryTimeMs: config.producerRetryInitialMs, maxRetryTimeMs: config.producerRetryMaxMs },
  };
  if (config.transactionScope === 'partition') return new ExactlyOnceDelivery(transactional);
  if (!d.kafka.offsetsCarryGeneration) {
    throw new ConfigError('one transaction per member needs offsets that carry the group generation', [
      {
        path: 'transactionScope',
        message:
          'member needs KAFKA_CLIENT=confluent (KIP-447: kafkajs sends no group generation with the offsets, so only one transactional id per partition fences a zombie); use partition',
      },
    ]);
  }
  return new MemberDelivery({
    ...transactional,
    ...(config.instanceId !== undefined ? { instanceId: config.instanceId } : {}),
  });
}

/** Outputs a Confluent consumer can read: the flag and score schemas registered under `<topic>-value`. */
async function frameOutputs(config: ScorerConfig, batchScorer: BatchScorer, log: Logger): Promise<void> {
  const ids = await registerOutputSchemas(
    { url: config.schemaRegistryUrl! },
    {
      flags: { topic: config.topics.flags, type: FLAG_SCHEMA },
      scores: { topic: config.topics.scores, type: SCORE_SCHEMA },
    },
  );
  batchScorer.useOutputSchemaIds(ids);
  log.info({ schemaIds: ids }, 'flags and scores framed in the Confluent wire format');
}

/** Ready: a model, a place in the group, every assigned partition advancing, not stopping. */
function readiness(s: {
  modelVersion: number | null;
  hasModel: boolean;
  group: GroupMembership;
  delivery: string;
  stopping: boolean;
  stalled: ReturnType<PartitionProgress['stalled']>;
}): ProbeResult {
  const detail = {
    modelVersion: s.modelVersion,
    joined: s.group.joined,
    assignment: s.group.assigned,
    delivery: s.delivery,
  };
  if (s.stopping) return { ok: false, detail: { ...detail, reason: 'stopping' } };
  if (!s.hasModel) return { ok: false, detail: { ...detail, reason: 'no model yet' } };
  if (!s.group.joined) return { ok: false, detail: { ...detail, reason: 'not in the consumer group' } };
  if (s.stalled.length > 0) {
    const names = s.stalled.map((p) => `${p.topic}/${p.partition} (${Math.round(p.sinceMs / 1000)} s)`);
    return {
      ok: false,
      detail: { ...detail, stalled: s.stalled, reason: `partitions not advancing: ${names.join(', ')}` },
    };
  }
  return { ok: true, detail };
}
