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
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { RecordDecoder, type SchemaIdResolver } from '../../shared/avro/decoder.js';
import { FLAG_SCHEMA, loadSchemaFile, SCORE_SCHEMA, type AvroType } from '../../shared/avro/schemas.js';
import { registerOutputSchemas } from '../../shared/avro/confluent-output.js';
import { schemaIdDirectory, schemaRegistryIds } from '../../shared/avro/schema-ids.js';
import { ModelError, isSmaeError, type ErrorCode } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import type { ModelArtifact } from '../../shared/model/artifact.js';
import { createMetricsRegistry } from '../../shared/ops/metrics.js';
import type { ProbeResult } from '../../shared/ops/server.js';
import { BatchScorer } from '../../shared/scoring/batch.js';
import type { SourceMessage } from '../../shared/scoring/messages.js';
import type { ScoringModel } from '../../shared/scoring/model.js';
import { windowStreamKey } from '../../shared/scoring/window.js';
import type { ScorerConfig } from './config.js';
import { AtLeastOnceDelivery, ExactlyOnceDelivery, type Delivery } from './delivery.js';
import { createScorerMetrics, type ScorerMetrics } from './metrics.js';
import { ModelSlot } from './model-slot.js';
import { WindowWriter } from './window-writer.js';

/** A published model as the registry hands it out. */
export interface PublishedVersion {
  version: number;
  artifact: ModelArtifact;
}

/** What the scorer needs of the registry (`ModelRegistry` fits). */
export interface ModelSource {
  watch(
    onVersion: (m: PublishedVersion) => void | Promise<void>,
    opts?: { pollMs?: number; afterVersion?: number; onRejected?: (version: number, error: Error) => void },
  ): { close(): Promise<void> };
}

export interface ScorerDeps {
  kafka: Kafka;
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

export interface BatchInfo {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  records: number;
  flagged: number;
  deadLetters: number;
  modelVersion: number | null;
  /** When the batch's transaction (or offset commit) completed, ms since the epoch. */
  committedAt: number;
  /** Kafka timestamps of the batch's records, ms (commit time minus these is the end-to-end latency). */
  timestamps: number[];
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

/**
 * Wraps a batch failure so kafkajs always retries it (re-fetching from the last committed position) and
 * restarts the consumer when retries run out, instead of stopping for good on a non-retriable protocol
 * error. The original is kept as `original`, not `cause`: kafkajs follows `cause` to decide on restarts.
 */
class BatchFailedError extends Error {
  readonly retriable = true;
  constructor(readonly original: unknown) {
    super(`batch failed: ${(original as Error)?.message ?? String(original)}`);
    this.name = 'BatchFailedError';
  }
}

export function buildScorer(config: ScorerConfig, deps: ScorerDeps): Scorer {
  const log = (deps.logger ?? silentLogger).child({ component: 'scorer', pipeline: config.pipeline });
  const metricsRegistry =
    deps.metricsRegistry ?? createMetricsRegistry({ service: 'scorer', pipeline: config.pipeline });
  const metrics = createScorerMetrics(metricsRegistry);
  const readerSchema = deps.readerSchema ?? loadSchemaFile(config.recordSchema);
  const readerFields = recordFieldNames(readerSchema);
  const resolveSchemaId =
    deps.resolveSchemaId ??
    (config.schemaRegistryUrl
      ? schemaRegistryIds({ url: config.schemaRegistryUrl })
      : config.schemaIdsDir
        ? schemaIdDirectory(config.schemaIdsDir)
        : undefined);
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
    windowSampleRate: config.windowSampleRate,
    ...(config.keyField ? { keyField: config.keyField } : {}),
    ...(config.eventTimeField ? { eventTimeField: config.eventTimeField } : {}),
  });
  const slot = new ModelSlot();
  const window =
    deps.redis && config.windowMaxLen > 0
      ? new WindowWriter({
          redis: deps.redis,
          key: windowStreamKey(config.names.redisPrefix),
          maxLen: config.windowMaxLen,
          logger: log,
          onWritten: (n) => metrics.windowEntries.inc(n),
          onDropped: (n) => metrics.windowDropped.inc(n),
          onError: () => metrics.windowErrors.inc(),
        })
      : null;

  const consumer: Consumer = deps.kafka.consumer({
    groupId: config.group,
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: config.heartbeatIntervalMs,
    maxBytesPerPartition: config.maxBytesPerPartition,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 10_000, restartOnFailure: async () => true },
  });
  const admin: Admin = deps.kafka.admin();
  const outputTopics = {
    flags: config.topics.flags,
    deadLetters: config.topics.deadLetters,
    scores: config.topics.scores,
  };
  const deliveryEvents = {
    onTransaction: (outcome: 'committed' | 'aborted') => metrics.transactions.inc({ outcome }),
    onFenced: () => metrics.fenced.inc(),
  };
  const delivery: Delivery =
    config.delivery === 'exactly-once'
      ? new ExactlyOnceDelivery({
          kafka: deps.kafka,
          admin,
          groupId: config.group,
          topics: outputTopics,
          transactionalIdPrefix: config.names.transactionalIdPrefix,
          transactionTimeoutMs: config.transactionTimeoutMs,
          logger: log,
          events: deliveryEvents,
        })
      : new AtLeastOnceDelivery({
          kafka: deps.kafka,
          consumer,
          groupId: config.group,
          topics: outputTopics,
          logger: log,
          events: deliveryEvents,
        });

  let assigned: Record<string, number[]> = {};
  let joined = false;
  let crashed: Error | null = null;
  let running = false;
  let stopping: Promise<void> | null = null;
  let loadingChain: Promise<void> = Promise.resolve();
  let watchHandle: { close(): Promise<void> } | null = null;
  const inFlight = new Set<Promise<unknown>>();
  const startAbort = new AbortController();

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = e.payload.memberAssignment;
    joined = true;
    metrics.consumerLag.reset(); // partitions may have moved to other members
    crashed = null;
    log.info({ assignment: assigned }, 'joined the consumer group');
    void delivery
      .onAssignment(assigned)
      .catch((err: unknown) => log.warn({ err }, 'releasing revoked partitions failed'));
  });
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    log.error({ err: e.payload.error?.message, restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart && !stopping) {
      crashed = e.payload.error;
      deps.onFatal?.(e.payload.error);
    }
  });
  consumer.on(consumer.events.STOP, () => {
    joined = false;
  });

  function refuse(version: number, err: Error): void {
    const code: ErrorCode = isSmaeError(err) ? err.code : 'INCOMPATIBLE_MODEL';
    metrics.modelsRefused.inc({ code });
    log.error({ version, code, err: err.message }, 'model version refused; the running model stays');
    deps.onModel?.({ version, installed: false, error: err });
  }

  function install(m: PublishedVersion): void {
    let model: ScoringModel;
    try {
      checkFitsSchema(m.artifact, readerFields);
      model = deps.loadModel(m.artifact);
    } catch (err) {
      refuse(m.version, err as Error);
      return;
    }
    const previous = slot.version;
    slot.install(model);
    metrics.modelVersion.set(m.version);
    const created = Date.parse(m.artifact.manifest.createdAt);
    if (Number.isFinite(created)) metrics.modelCreated.set(created / 1000);
    metrics.modelSwaps.inc();
    log.info({ version: m.version, previous }, previous === null ? 'model loaded' : 'model swapped');
    deps.onModel?.({ version: m.version, installed: true });
  }

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    if (!isRunning() || isStale() || batch.isEmpty()) return;
    const { topic, partition } = batch;
    const started = performance.now();
    let lease: ReturnType<ModelSlot['acquire']> | null = null;
    try {
      const begin = await delivery.begin(topic, partition);
      let messages = batch.messages;
      if (begin.committedOffset !== undefined && begin.committedOffset !== null) {
        const committed = BigInt(begin.committedOffset);
        if (committed > BigInt(batch.lastOffset())) {
          log.info(
            { topic, partition, committed: begin.committedOffset },
            'batch already committed by a previous owner; seeking',
          );
          consumer.seek({ topic, partition, offset: begin.committedOffset });
          return;
        }
        if (committed > BigInt(batch.messages[0]!.offset)) {
          log.info(
            { topic, partition, committed: begin.committedOffset },
            'skipping records committed by a previous owner',
          );
          messages = messages.filter((m) => BigInt(m.offset) >= committed);
        }
      }
      lease = slot.acquire();
      const sources: SourceMessage[] = messages.map((m) => ({
        topic,
        partition,
        offset: m.offset,
        key: m.key ?? null,
        value: m.value ?? null,
        timestamp: m.timestamp,
        headers: m.headers ?? {},
      }));
      const outcome = await batchScorer.score(sources, lease.model);
      lease.release();
      lease = null;
      await heartbeat().catch(() => undefined); // a rebalance is noticed on the next fetch; commit first
      const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
      await delivery.commit(topic, partition, nextOffset, outcome);
      resolveOffset(batch.lastOffset());

      const now = Date.now();
      const timestamps = sources.map((m) => Number(m.timestamp));
      metrics.records.inc(outcome.records);
      metrics.flags.inc(outcome.flagged);
      for (const [code, n] of outcome.deadLettersByCode) metrics.deadLetters.inc({ code }, n);
      metrics.batchSize.observe(outcome.records);
      metrics.scoringSeconds.observe((outcome.decodeMs + outcome.scoreMs) / 1000);
      metrics.batchSeconds.observe((performance.now() - started) / 1000);
      for (const ts of timestamps) {
        if (Number.isFinite(ts)) metrics.endToEndLagSeconds.observe(Math.max(0, now - ts) / 1000);
      }
      for (const s of outcome.scoreValues) metrics.scores.observe(s);
      metrics.consumerLag.set({ topic, partition: String(partition) }, Number(batch.offsetLag()));
      window?.append(outcome.window);
      deps.onBatch?.({
        topic,
        partition,
        firstOffset: sources[0]?.offset ?? batch.messages[0]!.offset,
        lastOffset: batch.lastOffset(),
        records: outcome.records,
        flagged: outcome.flagged,
        deadLetters: outcome.deadLetters.length,
        modelVersion: outcome.modelVersion,
        committedAt: now,
        timestamps,
      });
    } catch (err) {
      lease?.release();
      metrics.batchErrors.inc();
      await delivery.fail(topic, partition, err).catch(() => undefined);
      if (!isRunning()) return; // shutting down: the batch is re-delivered to whoever owns it next
      log.warn({ topic, partition, err: describe(err) }, 'batch failed; it will be re-delivered');
      throw isGroupChange(err) ? err : new BatchFailedError(err);
    }
  }

  async function start(): Promise<void> {
    if (running || stopping) throw new Error('scorer already started or stopped');
    running = true;
    if (config.schemaRegistryUrl) {
      // Outputs a Confluent consumer can read: the flag and score schemas under `<topic>-value`.
      const ids = await registerOutputSchemas(
        { url: config.schemaRegistryUrl },
        {
          flags: { topic: config.topics.flags, type: FLAG_SCHEMA },
          scores: { topic: config.topics.scores, type: SCORE_SCHEMA },
        },
      );
      batchScorer.useOutputSchemaIds(ids);
      log.info({ schemaIds: ids }, 'flags and scores framed in the Confluent wire format');
    }
    watchHandle = deps.models.watch(
      (m) => {
        // Loading can take a while (weights, backend): chain it so versions install in order.
        loadingChain = loadingChain.then(() => install(m));
        return loadingChain;
      },
      { pollMs: config.modelPollMs, onRejected: (v, err) => refuse(v, err) },
    );
    log.info({ pipeline: config.pipeline, delivery: delivery.mode }, 'waiting for a model');
    await slot.waitForModel(startAbort.signal);
    await admin.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [config.topics.input], fromBeginning: config.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.partitionsConcurrently,
      eachBatch: (payload) => {
        const p = handleBatch(payload);
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
      crashed ? { ok: false, detail: { reason: `consumer crashed: ${crashed.message}` } } : { ok: true },
    ready: () => {
      const detail = { modelVersion: slot.version, joined, assignment: assigned, delivery: delivery.mode };
      if (stopping) return { ok: false, detail: { ...detail, reason: 'stopping' } };
      if (slot.version === null && slot.model === null)
        return { ok: false, detail: { ...detail, reason: 'no model yet' } };
      if (!joined) return { ok: false, detail: { ...detail, reason: 'not in the consumer group' } };
      return { ok: true, detail };
    },
    assignment: () => assigned,
    modelVersion: () => slot.version,
  };
}

/** The field names of a record schema (the features a model may use). */
function recordFieldNames(type: AvroType): Set<string> {
  const fields = (type as unknown as { fields?: { name: string }[] }).fields;
  if (type.typeName !== 'record' || !Array.isArray(fields)) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `the record schema must be an Avro record, got ${type.typeName}`,
    );
  }
  return new Set(fields.map((f) => f.name));
}

/** Refuses a model whose features are not fields of the record schema: every record would be dead-lettered. */
function checkFitsSchema(artifact: ModelArtifact, fields: ReadonlySet<string>): void {
  const features = artifact.manifest?.preprocessing?.spec?.features ?? [];
  const missing = features.map((f) => f.name).filter((n) => !fields.has(n));
  if (missing.length > 0) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `model features ${missing.join(', ')} are not fields of the configured record schema; ` +
        'train the model on this schema or point the scorer at the schema it was trained on',
      { details: { missing } },
    );
  }
}

/** kafkajs re-joins the group on these instead of retrying: let them through unwrapped. */
function isGroupChange(err: unknown): boolean {
  const type = (err as { type?: string })?.type;
  return (
    type === 'REBALANCE_IN_PROGRESS' ||
    type === 'NOT_COORDINATOR_FOR_GROUP' ||
    type === 'ILLEGAL_GENERATION' ||
    type === 'UNKNOWN_MEMBER_ID'
  );
}

function describe(err: unknown): string {
  if (isSmaeError(err)) return `${err.code}: ${err.message}`;
  return (err as Error)?.message ?? String(err);
}
