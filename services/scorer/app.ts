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
import { RecordDecoder, type SchemaIdResolver } from '../../shared/avro/decoder.js';
import { FLAG_SCHEMA, loadSchemaFile, SCORE_SCHEMA, type AvroType } from '../../shared/avro/schemas.js';
import { registerOutputSchemas } from '../../shared/avro/confluent-output.js';
import { schemaIdSource } from '../../shared/avro/schema-ids.js';
import { InputError, ModelError, isSmaeError, type ErrorCode } from '../../shared/errors.js';
import { describeFitIssue, featureFitIssues } from '../../shared/avro/feature-fit.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import type { ModelArtifact } from '../../shared/model/artifact.js';
import { createMetricsRegistry } from '../../shared/ops/metrics.js';
import type { ProbeResult } from '../../shared/ops/server.js';
import { BatchScorer, type BatchOutcome } from '../../shared/scoring/batch.js';
import { deadLetterFor, fitDeadLetter } from '../../shared/scoring/dead-letter.js';
import { PartitionProgress } from '../../shared/scoring/progress.js';
import { chunkBySize, TopicSizeLimits } from '../../shared/kafka/record-size.js';
import type { BatchControl, InBatch, InRecord, KafkaPort } from '../../shared/kafka/port.js';
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

export function buildScorer(config: ScorerConfig, deps: ScorerDeps): Scorer {
  const log = (deps.logger ?? silentLogger).child({ component: 'scorer', pipeline: config.pipeline });
  const metricsRegistry =
    deps.metricsRegistry ?? createMetricsRegistry({ service: 'scorer', pipeline: config.pipeline });
  const progress = new PartitionProgress(config.stallTimeoutMs);
  const metrics = createScorerMetrics(metricsRegistry, progress);
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
    windowSampleRate: config.windowSampleRate,
    maxRecordBytes: config.maxRecordBytes,
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

  const consumer = deps.kafka.groupConsumer(
    {
      groupId: config.group,
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      maxBytesPerPartition: config.maxBytesPerPartition,
      maxBytes: config.fetchMaxBytes,
      maxWaitTimeMs: config.fetchMaxWaitMs,
      readCommitted: true,
    },
    {
      onAssignment: (assignment) => {
        assigned = assignment;
        joined = true;
        metrics.consumerLag.reset(); // partitions may have moved to other members
        progress.assigned(assigned);
        crashed = null;
        log.info({ assignment: assigned }, 'joined the consumer group');
        void delivery
          .onAssignment(assigned)
          .catch((err: unknown) => log.warn({ err }, 'releasing revoked partitions failed'));
      },
      onCrash: (error, restart) => {
        joined = false;
        log.error({ err: error?.message, restart }, 'consumer crashed');
        if (!restart && !stopping) {
          crashed = error;
          deps.onFatal?.(error);
        }
      },
      onStop: () => {
        joined = false;
      },
    },
  );
  const admin = deps.kafka.admin();
  const outputTopics = {
    flags: config.topics.flags,
    deadLetters: config.topics.deadLetters,
    scores: config.topics.scores,
  };
  const deliveryEvents = {
    onTransaction: (outcome: 'committed' | 'aborted') => metrics.transactions.inc({ outcome }),
    onFenced: () => metrics.fenced.inc(),
    onStage: (stage: 'send' | 'send_offsets' | 'commit', s: number) =>
      metrics.stageSeconds.observe({ stage }, s),
  };
  // Output sends stay under each output topic's max.message.bytes (read at start) and maxSendBytes.
  const limits = new TopicSizeLimits(undefined, config.maxSendBytes);

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
          limits,
          retry: {
            initialRetryTimeMs: config.producerRetryInitialMs,
            maxRetryTimeMs: config.producerRetryMaxMs,
          },
        })
      : new AtLeastOnceDelivery({
          kafka: deps.kafka,
          consumer,
          groupId: config.group,
          topics: outputTopics,
          logger: log,
          events: deliveryEvents,
          limits,
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

  function refuse(version: number, err: Error): void {
    const code: ErrorCode = isSmaeError(err) ? err.code : 'INCOMPATIBLE_MODEL';
    metrics.modelsRefused.inc({ code });
    deps.onModel?.({ version, installed: false, error: err });
    if (slot.version === null && code === 'INCOMPATIBLE_MODEL') {
      // The first model cannot be fed by the configured schema: refuse to start rather than dead-letter every record.
      log.error(
        { version, code, err: err.message },
        'the current model does not fit the record schema; not starting',
      );
      startAbort.abort(err);
      return;
    }
    log.error({ version, code, err: err.message }, 'model version refused; the running model stays');
  }

  function install(m: PublishedVersion): void {
    let model: ScoringModel;
    try {
      checkFitsSchema(m.artifact, readerSchema, deps.readerSchema ? 'given' : config.recordSchema);
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

  /**
   * One fetched batch of one partition. It is cut into ranges of at most `maxTransactionRecords` records
   * and `maxTransactionBytes` input bytes, each delivered in its own transaction (outputs + offsets), so
   * a large fetch does not become one long transaction and the bytes of outputs held at once are bounded.
   */
  async function handleBatch(batch: InBatch, control: BatchControl): Promise<void> {
    const { resolveOffset, heartbeat, isRunning, isStale } = control;
    if (!isRunning() || isStale() || batch.records.length === 0) return;
    const { topic, partition } = batch;
    const fetchedAt = Date.now();
    for (const m of batch.records) {
      const ts = Number(m.timestamp);
      if (Number.isFinite(ts)) metrics.recordAgeAtFetchSeconds.observe(Math.max(0, fetchedAt - ts) / 1000);
    }
    progress.fetched(topic, partition, Number(batch.records[0]!.timestamp));
    const ranges = chunkBySize(
      batch.records,
      (m) => (m.value?.length ?? 0) + (m.key?.length ?? 0),
      config.maxTransactionBytes,
      config.maxTransactionRecords,
    );
    const batchLast = (BigInt(batch.nextOffset) - 1n).toString();
    try {
      for (let i = 0; i < ranges.length; i++) {
        if (!isRunning() || isStale()) return;
        const range = ranges[i]!;
        const isLast = i === ranges.length - 1;
        // The last range commits past the batch's end (which may be a control record).
        const nextOffset = isLast ? nextOf(batchLast) : nextOf(range[range.length - 1]!.offset);
        const result = await processRange(topic, partition, range, nextOffset, batchLast, control);
        if (result === 'seeked') return;
        resolveOffset(isLast ? batchLast : range[range.length - 1]!.offset);
        const next = ranges[i + 1]?.[0];
        // After the last range: records still waiting (lag) get "now" as their age's lower bound.
        progress.advanced(
          topic,
          partition,
          next ? Number(next.timestamp) : batch.lag() > 0 ? Date.now() : null,
        );
        metrics.consumerLag.set({ topic, partition: String(partition) }, batch.lag());
        await heartbeat().catch(() => undefined);
      }
    } catch (err) {
      metrics.batchErrors.inc();
      await delivery.fail(topic, partition, err).catch(() => undefined);
      if (!isRunning()) return; // shutting down: the batch is re-delivered to whoever owns it next
      log.warn({ topic, partition, err: describe(err) }, 'batch failed; it will be re-delivered');
      throw err;
    }
  }

  /**
   * Scores `messages` and delivers their outputs with the offset `nextOffset` in one transaction. When the
   * broker refuses the outputs for a reason tied to records (too large, invalid), the range is split in
   * two and each half delivered on its own, down to the one record at fault, which is dead-lettered as
   * `OUTPUT_REJECTED` (by reference) so the partition moves on; any other error propagates and the whole
   * batch is re-delivered.
   */
  async function processRange(
    topic: string,
    partition: number,
    messages: readonly InRecord[],
    nextOffset: string,
    batchLast: string,
    control: BatchControl,
  ): Promise<'done' | 'seeked'> {
    const started = performance.now();
    const begin = await delivery.begin(topic, partition);
    let todo = messages;
    if (begin.committedOffset !== undefined && begin.committedOffset !== null) {
      const committed = BigInt(begin.committedOffset);
      if (committed > BigInt(batchLast)) {
        log.info(
          { topic, partition, committed: begin.committedOffset },
          'batch already committed by a previous owner; seeking',
        );
        control.seek(begin.committedOffset);
        return 'seeked';
      }
      if (committed >= BigInt(nextOffset)) return 'done';
      if (committed > BigInt(todo[0]!.offset)) {
        log.info(
          { topic, partition, committed: begin.committedOffset },
          'skipping records committed by a previous owner',
        );
        todo = todo.filter((m) => BigInt(m.offset) >= committed);
      }
    }
    const sources: SourceMessage[] = todo.map((m) => ({ topic, partition, ...m }));
    const lease = slot.acquire();
    let outcome: BatchOutcome;
    try {
      outcome = await batchScorer.score(sources, lease.model);
    } finally {
      lease.release();
    }
    metrics.stageSeconds.observe({ stage: 'decode_score' }, (outcome.decodeMs + outcome.scoreMs) / 1000);
    try {
      await delivery.commit(topic, partition, nextOffset, outcome);
    } catch (err) {
      if (!deps.kafka.isRecordRejection(err)) throw err;
      await delivery.fail(topic, partition, err);
      if (todo.length === 1) {
        await rejectRecord(sources[0]!, err, nextOffset);
        return 'done';
      }
      metrics.batchSplits.inc();
      const mid = Math.floor(todo.length / 2);
      const left = todo.slice(0, mid);
      log.warn(
        { topic, partition, from: todo[0]!.offset, records: todo.length, err: describe(err) },
        'the broker refused outputs of this range; splitting it to isolate the record',
      );
      const first = await processRange(
        topic,
        partition,
        left,
        nextOf(left[left.length - 1]!.offset),
        batchLast,
        control,
      );
      if (first === 'seeked') return first;
      return processRange(topic, partition, todo.slice(mid), nextOffset, batchLast, control);
    }
    recordOutcome(topic, partition, sources, outcome, nextOffset, started);
    return 'done';
  }

  /** The one record whose outputs the broker refuses: dead-lettered by reference, and the partition moves on. */
  async function rejectRecord(source: SourceMessage, cause: unknown, nextOffset: string): Promise<void> {
    const error = new InputError(
      'OUTPUT_REJECTED',
      `the broker refused this record's outputs: ${describe(cause)}`,
    );
    const dl = fitDeadLetter(deadLetterFor(source, error, config.pipeline), 0, { alwaysReference: true });
    log.warn(
      { topic: source.topic, partition: source.partition, offset: source.offset, err: describe(cause) },
      'record dead-lettered by reference: the broker refused its outputs',
    );
    const begin = await delivery.begin(source.topic, source.partition);
    if (begin.committedOffset && BigInt(begin.committedOffset) >= BigInt(nextOffset)) return;
    await delivery.commit(source.topic, source.partition, nextOffset, {
      flags: [],
      scores: [],
      deadLetters: [dl],
    });
    metrics.records.inc();
    metrics.deadLetters.inc({ code: error.code });
  }

  function recordOutcome(
    topic: string,
    partition: number,
    sources: readonly SourceMessage[],
    outcome: BatchOutcome,
    nextOffset: string,
    started: number,
  ): void {
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
    window?.append(outcome.window);
    if (sources.length === 0) return;
    deps.onBatch?.({
      topic,
      partition,
      firstOffset: sources[0]!.offset,
      lastOffset: (BigInt(nextOffset) - 1n).toString(),
      records: outcome.records,
      flagged: outcome.flagged,
      deadLetters: outcome.deadLetters.length,
      modelVersion: outcome.modelVersion,
      committedAt: now,
      timestamps,
    });
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
        const p = handleBatch(batch, control);
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
      const stalled = progress.stalled();
      if (stalled.length > 0) {
        const names = stalled.map((p) => `${p.topic}/${p.partition} (${Math.round(p.sinceMs / 1000)} s)`);
        return {
          ok: false,
          detail: { ...detail, stalled, reason: `partitions not advancing: ${names.join(', ')}` },
        };
      }
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

/**
 * Refuses a model whose features the record schema cannot feed (a field absent, or of a type the
 * feature cannot read): every record would be dead-lettered. Names each field, its type and the need.
 */
function checkFitsSchema(artifact: ModelArtifact, readerSchema: AvroType, schemaPath: string): void {
  const features = artifact.manifest?.preprocessing?.spec?.features ?? [];
  const issues = featureFitIssues(readerSchema, { features });
  if (issues.length > 0) {
    throw new ModelError(
      'INCOMPATIBLE_MODEL',
      `the record schema ${schemaPath} cannot feed the model's features: ${issues.map(describeFitIssue).join('; ')}. ` +
        'Train the model on this schema (smae init, then smae train --features) or point SMAE_RECORD_SCHEMA at the schema it was trained on',
      { details: { issues } },
    );
  }
}

const nextOf = (offset: string): string => (BigInt(offset) + 1n).toString();

function describe(err: unknown): string {
  if (isSmaeError(err)) return `${err.code}: ${err.message}`;
  return (err as Error)?.message ?? String(err);
}
