/**
 * `npm run bench:scorer`: the scorer's throughput against a pass-through baseline, and its end-to-end
 * latency at half its maximum rate, for exactly-once and at-least-once delivery. Needs the local broker
 * and Redis (`npm run infra:up`).
 *
 * - Baseline: the same consumer set-up on the same client (eachBatch, same group settings, the same
 *   delivery code: one transaction per batch on per-partition transactional producers, or per member on
 *   librdkafka's second exactly-once arm, or send-then-commit) copying each input record out
 *   (pass-through), with no decoding and no scoring.
 * - Scorer: `buildScorer` with its defaults (no scores topic) and a small trained detector.
 * - Throughput: a backlog of N records is consumed by a fresh group; records/s is every record over the
 *   time from the first fetched batch reaching the handler to the last batch committed (group join time
 *   excluded, for both; `RateMeter` says why not from the first commit). The baseline and the scorer
 *   with one output per record run in alternation, SMAE_BENCH_REPEATS pairs (3): each pair's ratio, and
 *   the medians, so the shared machine's drift over minutes falls within a pair rather than between the
 *   two figures of a ratio.
 * - Latency, as a downstream user feels it: phases at 1,000 and 10,000 records/s offered and at half the
 *   measured maximum with one output per record (scores topic on), onto an empty topic, by a paced load
 *   generator in child processes (./load-generator.ts: token bucket per 10 ms tick, several producers,
 *   pre-encoded values); offered and achieved (broker-acknowledged) rates are printed side by side. An
 *   independent consumer in a process of its own, as a downstream user's would be (its own group,
 *   committed records only: shared/kafka/committed-reader.ts), reads the scores; latency = when it could
 *   read a score − the input record's Kafka timestamp (when the generator released it; the scorer copies
 *   it into the score's event time). The scorer's own view (commit completed − timestamp) is printed
 *   beside it, and where the time went inside it (`stageMeans`: record age at fetch, records per
 *   transaction, each transaction stage, the client's retries by error).
 *
 * Environment: SMAE_BENCH_RECORDS (default 500000), SMAE_BENCH_PARTITIONS (4), SMAE_BENCH_REPEATS (3),
 * SMAE_BENCH_PHASES (all; `throughput` skips the latency phases; `latency` skips the throughput phases and
 * runs the half-maximum phase only at SMAE_BENCH_HALF_MAX records/s when set), SMAE_BENCH_TX_RECORDS (the scorer's
 * records per transaction, `maxTransactionRecords`; default the scorer's own, 2,000),
 * SMAE_BENCH_LATENCY_SECONDS (15), SMAE_BENCH_CONCURRENCY (partitions consumed concurrently, 4: the
 * scorer's default), SMAE_BENCH_LOAD_PROCESSES (load generator processes, 2), SMAE_BENCH_LOAD_PRODUCERS
 * (producers per load generator process, 2), SMAE_BENCH_CLIENTS (the Kafka clients measured in turn: kafkajs,
 * and confluent when @confluentinc/kafka-javascript is installed; confluent runs exactly-once twice, with one
 * transaction per partition and per member, `transactionScope`), SMAE_BENCH_WINDOW (the scorer's recent
 * window in Redis: `off`, the default, as the baseline has none; `on` with the scorer's default settings;
 * `unlimited`, every scored record written, as before the window's rate budget), SMAE_BENCH_MODEL (the
 * model the scorer runs: `small`, the default, one small network; `default`, the `default` profile's
 * ensemble, what production scores with).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Admin, Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import {
  bundledSchemaPath,
  SCORE_SCHEMA,
  staticSchemaIds,
  TRANSACTION_SCHEMA,
  type ScoreRecord,
} from '../../shared/avro/index.js';
import { createKafka, kafkaConnectionFromEnv } from '../../shared/kafka/client.js';
import { kafkajsPort } from '../../shared/kafka/kafkajs-adapter.js';
import { confluentAvailable } from '../../shared/kafka/confluent-adapter.js';
import { createKafkaPort } from '../../shared/kafka/ports.js';
import type { KafkaClientName } from '../../shared/kafka/client.js';
import type { KafkaPort } from '../../shared/kafka/port.js';
import { ensureTopics } from '../../shared/kafka/topics.js';
import { silentLogger } from '../../shared/log.js';
import { Detector } from '../../shared/model/index.js';
import { pipelineNames, type PipelineNames } from '../../shared/pipeline.js';
import { createRedis, redisUrlFromEnv } from '../../shared/redis/client.js';
import { ModelRegistry } from '../../shared/registry/index.js';
import { percentile } from '../../shared/threshold/percentile.js';
import { generateLoad } from './load-generator.js';
import { ensureRunSigningKey } from '../helpers/signing.js';
import { buildScorer, type BatchInfo } from '../../services/scorer/app.js';
import { resolveScorerConfig } from '../../services/scorer/config.js';
import {
  AtLeastOnceDelivery,
  ExactlyOnceDelivery,
  type Delivery,
  type DeliveryMode,
} from '../../services/scorer/delivery.js';
import { MemberDelivery } from '../../services/scorer/member-delivery.js';
import {
  TRANSACTION_SCHEMA_ID,
  anomalousTransaction,
  encodeTransaction,
  normalTransaction,
  rng,
  tinyModelArtifact,
} from '../fixtures/transactions.js';

const RECORDS = Number(process.env.SMAE_BENCH_RECORDS ?? 500_000);
const PARTITIONS = Number(process.env.SMAE_BENCH_PARTITIONS ?? 4);
const LATENCY_SECONDS = Number(process.env.SMAE_BENCH_LATENCY_SECONDS ?? 15);
const CONCURRENCY = Number(process.env.SMAE_BENCH_CONCURRENCY ?? 4);
const REPEATS = Number(process.env.SMAE_BENCH_REPEATS ?? 3);
/** `throughput` skips the latency phases, `latency` the throughput phases. */
const PHASES = process.env.SMAE_BENCH_PHASES ?? 'all';
if (!['all', 'throughput', 'latency'].includes(PHASES))
  throw new Error(`SMAE_BENCH_PHASES must be all, throughput or latency (got "${PHASES}")`);
/** With `latency`: the rate of the half-maximum phase (no throughput phase measures it). */
const HALF_MAX = process.env.SMAE_BENCH_HALF_MAX ? Number(process.env.SMAE_BENCH_HALF_MAX) : undefined;
const WINDOW = process.env.SMAE_BENCH_WINDOW ?? 'off';
if (!['off', 'on', 'unlimited'].includes(WINDOW))
  throw new Error(`SMAE_BENCH_WINDOW must be off, on or unlimited (got "${WINDOW}")`);
const MODEL = process.env.SMAE_BENCH_MODEL ?? 'small';
if (!['small', 'default'].includes(MODEL))
  throw new Error(`SMAE_BENCH_MODEL must be small or default (got "${MODEL}")`);
/** The scorer's Redis for its window (set in `main` unless SMAE_BENCH_WINDOW is off). */
let windowRedis: Redis | null = null;
/** Records per transaction for the scorer (`maxTransactionRecords`); unset: the scorer's default. */
const TX_RECORDS = process.env.SMAE_BENCH_TX_RECORDS ? Number(process.env.SMAE_BENCH_TX_RECORDS) : undefined;

const CLIENTS = (process.env.SMAE_BENCH_CLIENTS ?? (confluentAvailable() ? 'kafkajs,confluent' : 'kafkajs'))
  .split(',')
  .map((c) => c.trim()) as KafkaClientName[];
/** The client being measured (the outer loop of main). */
let client: KafkaClientName = 'kafkajs';
/** Exactly-once's transactions: per input partition, or per member (librdkafka only; `member-delivery.ts`). */
let scope: 'partition' | 'member' = 'partition';
/** Retries the measured client made of retriable broker errors, by error type (reset per latency phase). */
const retriesSeen = new Map<string, number>();
/** A port of the client being measured, on a connection of its own; kafkajs's `kafka` serves admin and load. */
function measuredPort(): KafkaPort {
  return createKafkaPort(
    { ...kafkaConnectionFromEnv(process.env, { clientId: 'smae-bench-scorer' }), client },
    silentLogger,
    { onRetry: (type) => retriesSeen.set(type, (retriesSeen.get(type) ?? 0) + 1) },
  );
}
const say = (s: string): void => void process.stdout.write(`${s}\n`);

interface Throughput {
  recordsPerSecond: number;
  seconds: number;
}

/**
 * Tracks a consumer's busy period: from the first fetched batch handed to its handler (so the group join
 * is left out) to the last batch committed, over every record. (Timing from the first commit instead
 * credits the work the other partitions did before it to the interval after it, which inflates a
 * consumer that commits in large batches, as the baseline does: 15,000 records per fetch against the
 * scorer's 2,000 per transaction.)
 */
class RateMeter {
  started = 0;
  last = 0;
  records = 0;
  private nextReport = 0;

  constructor(
    private readonly total: number,
    private readonly label: string,
  ) {}

  /** A fetched batch reached the handler. */
  onFetch(at: number): void {
    if (this.started === 0) this.started = at;
  }

  /** A batch's records were committed. */
  onBatch(records: number, at: number): void {
    this.last = at;
    this.records += records;
    if (this.records >= this.nextReport) {
      process.stdout.write(`\r  ${this.label}: ${this.records}/${this.total}   `);
      this.nextReport += this.total / 10;
    }
  }

  done(): boolean {
    return this.records >= this.total;
  }

  result(): Throughput {
    process.stdout.write('\n');
    const seconds = (this.last - this.started) / 1000;
    return { recordsPerSecond: this.records / seconds, seconds };
  }
}

/** `port`, calling `onFetch(now)` as each fetched batch reaches a group consumer's handler. */
function fetchTimed(port: KafkaPort, onFetch: (at: number) => void): KafkaPort {
  return {
    groupConsumer(opts, events) {
      const c = port.groupConsumer(opts, events);
      return {
        connect: () => c.connect(),
        run: (run) =>
          c.run({
            ...run,
            eachBatch: (batch, control) => {
              onFetch(Date.now());
              return run.eachBatch(batch, control);
            },
          }),
        seek: (s) => c.seek(s),
        commitOffsets: (offsets) => c.commitOffsets(offsets),
        stop: () => c.stop(),
        disconnect: () => c.disconnect(),
      };
    },
    committedReader: (opts, events) => port.committedReader(opts, events),
    transactionalProducer: (opts) => port.transactionalProducer(opts),
    producer: () => port.producer(),
    admin: () => port.admin(),
    offsetsCarryGeneration: port.offsetsCarryGeneration,
    isFencingError: (err) => port.isFencingError(err),
    isRecordRejection: (err) => port.isRecordRejection(err),
  };
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function produceBacklog(kafka: Kafka, topic: string, n: number): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const r = rng(1);
  const chunk = 2000;
  for (let i = 0; i < n; i += chunk) {
    const messages = Array.from({ length: Math.min(chunk, n - i) }, (_, j) => {
      const k = i + j;
      const tx = k % 100 === 0 ? anomalousTransaction(k) : normalTransaction(k, r);
      return { partition: k % PARTITIONS, key: `tx-${k}`, value: encodeTransaction(tx) };
    });
    await producer.send({ topic, messages });
    if ((i / chunk) % 10 === 0) process.stdout.write(`\r  producing backlog: ${i}/${n}   `);
  }
  process.stdout.write(`\r  producing backlog: ${n}/${n}   \n`);
  await producer.disconnect();
}

/**
 * The pass-through baseline: same consumer settings and delivery code, each input record copied out
 * (its value, keyed as the scorer keys its outputs), no decoding and no scoring.
 */
async function baseline(admin: Admin, names: PipelineNames, mode: DeliveryMode): Promise<Throughput> {
  const groupId = `${names.name}.baseline.${mode}.${randomUUID().slice(0, 8)}`;
  const meter = new RateMeter(RECORDS, `baseline ${mode}`);
  const port = fetchTimed(measuredPort(), (at) => meter.onFetch(at));
  const consumer = port.groupConsumer({
    groupId,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 3000,
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 8 * 1024 * 1024,
    maxWaitTimeMs: 500,
    readCommitted: true,
  });
  const portAdmin = port.admin();
  await portAdmin.connect();
  const topics = {
    flags: `${names.name}.baseline-out`,
    deadLetters: names.topics.deadLetters,
    scores: names.topics.scores,
  };
  const transactional = {
    kafka: port,
    admin: portAdmin,
    groupId,
    topics,
    transactionalIdPrefix: `${names.name}.baseline.tx.${randomUUID().slice(0, 8)}`,
    logger: silentLogger,
  };
  const delivery: Delivery =
    mode === 'at-least-once'
      ? new AtLeastOnceDelivery({ kafka: port, consumer, groupId, topics, logger: silentLogger })
      : scope === 'member'
        ? new MemberDelivery(transactional)
        : new ExactlyOnceDelivery(transactional);
  await consumer.connect();
  await consumer.run({
    topics: [names.topics.records],
    fromBeginning: true,
    concurrency: CONCURRENCY,
    eachBatch: async (batch, { resolveOffset, heartbeat }) => {
      const { topic, partition } = batch;
      try {
        await delivery.begin(topic, partition);
        const flags = batch.records.map((m) => ({
          key: `${topic}:${partition}:${m.offset}`,
          value: m.value ?? Buffer.alloc(0),
        }));
        await heartbeat().catch(() => undefined);
        await delivery.commit(topic, partition, batch.nextOffset, { flags, deadLetters: [], scores: [] });
      } catch (err) {
        await delivery.fail(topic, partition, err);
        throw err;
      }
      resolveOffset((BigInt(batch.nextOffset) - 1n).toString());
      meter.onBatch(batch.records.length, Date.now());
    },
  });
  await until(() => meter.done(), 600_000, 'the baseline to consume the backlog');
  await consumer.disconnect();
  await delivery.close();
  await portAdmin.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return meter.result();
}

/**
 * The baseline and the scorer with one output per record, in alternation, `REPEATS` pairs; each pair's
 * ratio is taken within the pair.
 */
async function pairedThroughput(
  admin: Admin,
  names: PipelineNames,
  registry: ModelRegistry,
  mode: DeliveryMode,
): Promise<{ base: number[]; scored: number[]; ratios: number[] }> {
  const out = { base: [] as number[], scored: [] as number[], ratios: [] as number[] };
  for (let r = 1; r <= REPEATS; r++) {
    const b = (await baseline(admin, names, mode)).recordsPerSecond;
    const s = (await scorerThroughput(admin, names, registry, mode, true)).recordsPerSecond;
    out.base.push(b);
    out.scored.push(s);
    out.ratios.push(s / b);
    say(
      `  pair ${r}/${REPEATS}: baseline ${Math.round(b)} records/s, scorer + scores topic ${Math.round(s)} records/s ` +
        `(one output per record, like the baseline): ratio ${(s / b).toFixed(2)}`,
    );
  }
  return out;
}

function scorerFor(
  port: KafkaPort,
  names: PipelineNames,
  registry: ModelRegistry,
  mode: DeliveryMode,
  inputTopic: string,
  emitScores: boolean,
  onBatch: (b: BatchInfo) => void,
  scoresTopic?: string,
) {
  const config = resolveScorerConfig({
    pipeline: names.name,
    recordSchema: bundledSchemaPath('transaction'),
    delivery: mode,
    ...(mode === 'exactly-once' ? { transactionScope: scope } : {}),
    inputTopic,
    emitScores,
    ...(scoresTopic ? { scoresTopic } : {}),
    groupId: `${names.groups.scorer}.${mode}.${randomUUID().slice(0, 8)}`,
    // Latency phases: a score's event time is its input record's Kafka timestamp (the produce time).
    ...(scoresTopic ? {} : { eventTimeField: 'eventTime' }),
    keyField: 'accountId',
    ...(WINDOW === 'off' ? { windowMaxLen: 0 } : WINDOW === 'unlimited' ? { windowMaxPerSecond: 0 } : {}),
    partitionsConcurrently: CONCURRENCY,
    ...(TX_RECORDS ? { maxTransactionRecords: TX_RECORDS } : {}),
  });
  return buildScorer(config, {
    kafka: port,
    redis: windowRedis,
    models: registry,
    loadModel: (a) => Detector.fromArtifact(a),
    readerSchema: TRANSACTION_SCHEMA,
    resolveSchemaId: staticSchemaIds({ [TRANSACTION_SCHEMA_ID]: TRANSACTION_SCHEMA }),
    logger: silentLogger,
    onBatch,
  });
}

async function scorerThroughput(
  admin: Admin,
  names: PipelineNames,
  registry: ModelRegistry,
  mode: DeliveryMode,
  emitScores: boolean,
): Promise<Throughput> {
  const meter = new RateMeter(RECORDS, `scorer ${mode}${emitScores ? ' + scores' : ''}`);
  const port = fetchTimed(measuredPort(), (at) => meter.onFetch(at));
  const scorer = scorerFor(port, names, registry, mode, names.topics.records, emitScores, (b) =>
    meter.onBatch(b.records, b.committedAt),
  );
  await scorer.start();
  await until(() => meter.done(), 600_000, 'the scorer to consume the backlog');
  await scorer.stop();
  await admin.deleteGroups([scorer.config.group]).catch(() => undefined);
  return meter.result();
}

interface Latency {
  /** Produce time of the input record → its score readable by an independent read_committed consumer. */
  p50: number;
  p99: number;
  /** Produce time → the scorer's commit completed (the scorer's own view). */
  commitP50: number;
  commitP99: number;
  samples: number;
  /** Target rate (half the scorer's measured maximum). */
  offered: number;
  /** Rate the generator's token bucket released records at, over the measurement window. */
  generated: number;
  /** Rate the broker acknowledged records at, over the measurement window. */
  achieved: number;
  /** Most records ever queued inside the generator waiting for a producer (0–a few thousand is normal). */
  maxQueued: number;
}

async function scorerLatency(
  admin: Admin,
  names: PipelineNames,
  registry: ModelRegistry,
  mode: DeliveryMode,
  rate: number,
): Promise<Latency> {
  const topic = `${names.name}.latency-${client}-${mode}-${Math.round(rate)}-${++phaseRuns}`;
  const scoresTopic = `${topic}.scores`;
  await ensureTopics(admin, [
    { topic, numPartitions: PARTITIONS },
    { topic: scoresTopic, numPartitions: PARTITIONS },
  ]);
  const commitLags: number[] = [];
  retriesSeen.clear();
  let measureFrom = Number.POSITIVE_INFINITY;
  const scorer = scorerFor(
    measuredPort(),
    names,
    registry,
    mode,
    topic,
    true,
    (b) => {
      for (const ts of b.timestamps) if (ts >= measureFrom) commitLags.push(b.committedAt - ts);
    },
    scoresTopic,
  );
  // The downstream user, in a process of its own (as the load generators are: a consumer in this
  // process would take the scorer's event loop for its fetches and decoding): its own group, reading the
  // scores as soon as their transaction commits (see `downstreamReader`).
  const readerGroup = `${topic}.reader`;
  const reader = startReader(scoresTopic, readerGroup);
  try {
    return await measurePhase(scorer, reader, commitLags, admin, topic, mode, rate, (t) => {
      measureFrom = t;
      reader.measureFrom(t);
    });
  } finally {
    reader.kill();
    await scorer.stop();
    await admin.deleteGroups([scorer.config.group, readerGroup]).catch(() => undefined);
  }
}

/** This benchmark in a child-process mode (`--load`, `--read`): its stdout piped back, stderr shared. */
function childMode(args: string[], stdin: 'pipe' | 'ignore'): ChildProcessByStdio<Writable, Readable, null> {
  return spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
    stdio: [stdin, 'pipe', 'inherit'],
    env: process.env,
  }) as ChildProcessByStdio<Writable, Readable, null>;
}

/** The downstream reader's child process, as the parent drives it. */
interface ReaderProcess {
  /** Resolves once the reader has joined its group and is fetching (rejects after 60 s). */
  ready: Promise<void>;
  /** Scores whose input was produced from `t` on are timed. */
  measureFrom(t: number): void;
  /** Waits until it has read `expected` measured scores (at most 30 s), then its figures. */
  finish(expected: number): Promise<{ p50: number; p99: number; samples: number }>;
  kill(): void;
}

function startReader(topic: string, groupId: string): ReaderProcess {
  const child = childMode(['--read', topic, groupId], 'pipe');
  // Its stdout, line by line, read in order: `ready`, then `read …`.
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const line = async (prefix: string): Promise<string> => {
    for (;;) {
      const next = await lines.next();
      if (next.done) throw new Error('the downstream reader exited early');
      if (next.value.startsWith(prefix)) return next.value;
    }
  };
  return {
    ready: Promise.race([
      line('ready').then(() => undefined),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the downstream reader did not join in 60 s')), 60_000).unref(),
      ),
    ]),
    measureFrom: (t) => void child.stdin.write(`from ${t}\n`),
    async finish(expected) {
      child.stdin.write(`stop ${expected}\n`);
      const [, samples, p50, p99] = (await line('read ')).split(' ').map(Number);
      return { samples: samples!, p50: p50!, p99: p99! };
    },
    kill: () => void child.kill(),
  };
}

/**
 * Child-process mode: the downstream user. Reads `topic` as a read_committed consumer would (committed
 * records only, as soon as their transaction commits: shared/kafka/committed-reader.ts) and times each
 * score whose input was produced from the time its parent gives (`from T` on stdin) on: when it could
 * read it − its event time (the input record's produce time). Prints `ready` once fetching; on `stop N`,
 * waits for N such scores (at most 30 s) and prints `read <samples> <p50 ms> <p99 ms>`.
 */
async function downstreamReader(topic: string, groupId: string): Promise<void> {
  let measureFrom = Number.POSITIVE_INFINITY;
  const kafka = createKafka({
    ...kafkaConnectionFromEnv(process.env, { clientId: 'smae-bench-reader' }),
    logLevel: 'nothing',
  });
  const lags: number[] = [];
  const reader = kafkajsPort(kafka).committedReader({
    groupId,
    topics: [topic],
    fromBeginning: true,
    commit: false,
    maxWaitTimeMs: 100,
    concurrency: PARTITIONS,
    onRecords: async (_topic, _partition, records) => {
      const now = Date.now();
      for (const m of records) {
        if (!m.value) continue;
        const produced = (SCORE_SCHEMA.fromBuffer(m.value) as ScoreRecord).eventTime;
        if (produced >= measureFrom) lags.push(now - produced);
      }
    },
  });
  await reader.connect();
  await reader.run();
  process.stdout.write('ready\n');
  let expected = 0;
  for await (const l of createInterface({ input: process.stdin })) {
    const [command, value] = l.split(' ');
    if (command === 'from') measureFrom = Number(value);
    if (command === 'stop') {
      expected = Number(value);
      break;
    }
  }
  await until(() => lags.length >= expected, 30_000, 'the reader to see every score').catch(() => undefined);
  process.stdout.write(`read ${lags.length} ${percentile(lags, 50)} ${percentile(lags, 99)}\n`);
  await reader.disconnect();
}

/** Phase runs so far: each gets topics of its own (a phase may be run again, see `main`). */
let phaseRuns = 0;

async function measurePhase(
  scorer: ReturnType<typeof scorerFor>,
  reader: ReaderProcess,
  commitLags: number[],
  admin: Admin,
  topic: string,
  mode: DeliveryMode,
  rate: number,
  setMeasureFrom: (t: number) => void,
): Promise<Latency> {
  await reader.ready;
  await scorer.start();
  await until(() => scorer.ready().ok, 60_000, 'the scorer to join');
  say(`  latency ${mode}: offering ${Math.round(rate)} records/s for ${LATENCY_SECONDS} s (+2 s warm-up)…`);
  // The load comes from child processes, so producing does not compete with the scorer's event loop;
  // each owns a share of the partitions and of the rate, and all start on the same clock tick.
  const procs = Math.max(1, Math.min(LOAD_PROCESSES, PARTITIONS));
  const startAt = Date.now() + 3000;
  setMeasureFrom(startAt + WARMUP_MS + 1);
  const reports = await Promise.all(
    Array.from({ length: procs }, async (_, i) => {
      const parts = Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % procs === i);
      const load = childMode(
        ['--load', topic, String((rate * parts.length) / PARTITIONS), parts.join(','), String(startAt)],
        'ignore',
      );
      let report = '';
      load.stdout.on('data', (d: Buffer) => (report += d.toString()));
      const code = await new Promise<number | null>((res) => load.once('exit', res));
      if (code !== 0) throw new Error(`load generator ${i} failed (exit ${code})`);
      return report;
    }),
  );
  const field = (name: string): number =>
    reports.reduce((n, r) => n + Number(new RegExp(`${name} (\\d+)`).exec(r)?.[1] ?? 0), 0);
  const sent = field('sent');
  const measured = field('measured');
  const read = await reader.finish(measured);
  say(`  the scorer's view: ${await stageMeans(scorer)}`);
  const held = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  if (held !== sent) say(`  note: ${sent} records sent, the topic holds ${held} (producer retries)`);
  return {
    p50: read.p50,
    p99: read.p99,
    commitP50: percentile(commitLags, 50),
    commitP99: percentile(commitLags, 99),
    samples: read.samples,
    offered: field('offered'),
    generated: field('generated'),
    achieved: field('achieved'),
    maxQueued: field('queued'),
  };
}

/** prom-client's JSON names each value of a histogram (`…_sum`, `…_count`) without typing the field. */
const metricNameOf = (v: object): string | undefined => (v as { metricName?: string }).metricName;

/**
 * Where a record's time went inside the scorer over the phase (warm-up included), from its own metrics:
 * the mean record age when fetched, records per transaction, and each stage's mean per transaction; and
 * the retries its Kafka client made, by error type.
 */
async function stageMeans(scorer: ReturnType<typeof scorerFor>): Promise<string> {
  const metrics = await scorer.metricsRegistry.getMetricsAsJSON();
  const mean = (name: string, label?: string): string => {
    const values = metrics.find((m) => m.name === name)?.values ?? [];
    const pick = (suffix: string): number =>
      values
        .filter(
          (v) => metricNameOf(v) === `${name}${suffix}` && (label === undefined || v.labels.stage === label),
        )
        .reduce((n, v) => n + v.value, 0);
    const count = pick('_count');
    return count > 0 ? ((1000 * pick('_sum')) / count).toFixed(1) : '-';
  };
  const batch = metrics.find((m) => m.name === 'smae_scorer_batch_size')?.values ?? [];
  const sum = batch.find((v) => metricNameOf(v) === 'smae_scorer_batch_size_sum')?.value ?? 0;
  const count = batch.find((v) => metricNameOf(v) === 'smae_scorer_batch_size_count')?.value ?? 0;
  const stages = ['decode_score', 'send', 'send_offsets', 'commit'].map(
    (st) => `${st} ${mean('smae_scorer_stage_seconds', st)}`,
  );
  const retries = [...retriesSeen].map(([type, n]) => `${type} ${n}`).join(', ');
  return (
    `retries: ${retries || 'none'}; mean record age at fetch ${mean('smae_scorer_record_age_at_fetch_seconds')} ms, ` +
    `${count > 0 ? (sum / count).toFixed(1) : '-'} records per batch; per transaction (ms): ${stages.join(', ')}`
  );
}

const WARMUP_MS = 2000;
const LOAD_PRODUCERS = Number(process.env.SMAE_BENCH_LOAD_PRODUCERS ?? 2);
const LOAD_PROCESSES = Number(process.env.SMAE_BENCH_LOAD_PROCESSES ?? 2);

/** Child-process mode: produce to `partitions` of `topic` at `rate` records/s from `startAt` (see
 * ./load-generator.ts); prints its totals. */
async function loadGenerator(
  topic: string,
  rate: number,
  partitions: number[],
  startAt: number,
): Promise<void> {
  const kafka = createKafka({
    ...kafkaConnectionFromEnv(process.env, { clientId: 'smae-bench-load' }),
    logLevel: 'nothing',
  });
  // The topic was just created: wait until this broker's metadata serves it (under load it may lag).
  const admin = kafka.admin();
  await admin.connect();
  await until(
    async () =>
      (await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null))?.topics[0]?.partitions
        .length === PARTITIONS,
    30_000,
    `metadata of ${topic}`,
  );
  await admin.disconnect();
  const r = rng(2);
  const values = Array.from({ length: 4096 }, (_, k) => encodeTransaction(normalTransaction(k, r)));
  const res = await generateLoad({
    kafka,
    topic,
    partitions,
    startAt,
    rate,
    warmupMs: WARMUP_MS,
    measureMs: LATENCY_SECONDS * 1000,
    values,
    producers: LOAD_PRODUCERS,
  });
  process.stdout.write(
    `sent ${res.sent} measured ${res.measured} offered ${Math.round(res.offered)} ` +
      `generated ${Math.round(res.generated)} achieved ${Math.round(res.achieved)} queued ${res.maxQueued}\n`,
  );
}

/** The paired throughput runs and the flags-only run of one delivery mode; prints them, returns the row. */
async function throughputPhases(
  admin: Admin,
  names: PipelineNames,
  registry: ModelRegistry,
  mode: DeliveryMode,
): Promise<{ withScores: number; row: string }> {
  const paired = await pairedThroughput(admin, names, registry, mode);
  const base = percentile(paired.base, 50);
  const withScores = percentile(paired.scored, 50);
  const ratio = percentile(paired.ratios, 50);
  const pairs = paired.ratios.map((r) => r.toFixed(2)).join(', ');
  const scored = await scorerThroughput(admin, names, registry, mode, false);
  say(
    `  scorer:   ${Math.round(scored.recordsPerSecond)} records/s (flags only: ~1% of records produce output)`,
  );
  say(
    `  medians: baseline ${Math.round(base)} records/s, scorer + scores topic ${Math.round(withScores)} records/s, ` +
      `ratio ${ratio.toFixed(2)} (pairs: ${pairs})`,
  );
  const row =
    `${Math.round(base)} | ${Math.round(scored.recordsPerSecond)} | ` +
    `${(scored.recordsPerSecond / base).toFixed(2)} | ${Math.round(withScores)} | ` +
    `${ratio.toFixed(2)} (${pairs})`;
  return { withScores, row };
}

async function main(): Promise<void> {
  ensureRunSigningKey(); // the scorer reads only signed models
  const kafka = createKafka({
    ...kafkaConnectionFromEnv(process.env, { clientId: 'smae-bench-scorer' }),
    logLevel: 'nothing',
  });
  const admin = kafka.admin();
  await admin.connect();
  const redis = createRedis(redisUrlFromEnv(process.env));
  if (WINDOW !== 'off') windowRedis = redis;
  const names = pipelineNames(`bench-${randomUUID().slice(0, 8)}`);
  const registry = new ModelRegistry({ redis, pipeline: names.name });
  say(
    `scorer benchmark: ${RECORDS} records, ${PARTITIONS} partitions, ${CONCURRENCY} partition(s) consumed concurrently`,
  );
  try {
    await ensureTopics(admin, [
      { topic: names.topics.records, numPartitions: PARTITIONS },
      { topic: names.topics.flags, numPartitions: PARTITIONS },
      { topic: names.topics.deadLetters, numPartitions: PARTITIONS },
      { topic: names.topics.scores, numPartitions: PARTITIONS },
      { topic: `${names.name}.baseline-out`, numPartitions: PARTITIONS },
    ]);
    say(MODEL === 'default' ? 'training a default-profile detector…' : 'training a small detector…');
    const artifact = await tinyModelArtifact(
      MODEL === 'default' ? { seed: 5, profile: 'default' } : { seed: 5 },
    );
    await registry.publish(artifact, { publishedBy: 'bench', reason: 'scorer benchmark' });
    if (PHASES !== 'latency') await produceBacklog(kafka, names.topics.records, RECORDS);

    const rows: string[] = [];
    const latencyRows: string[] = [];
    // librdkafka also runs exactly-once with one transaction per member (KIP-447), which kafkajs cannot.
    const runs = CLIENTS.flatMap((c) => [
      [c, 'exactly-once', 'partition'] as const,
      ...(c === 'confluent' ? [[c, 'exactly-once', 'member'] as const] : []),
      [c, 'at-least-once', 'partition'] as const,
    ]);
    for (const [c, mode, s] of runs) {
      client = c;
      scope = s;
      const who = `${mode}${s === 'member' ? ', per member' : ''} (${c})`;
      say(`\n[${who}]`);
      const measured = PHASES === 'latency' ? null : await throughputPhases(admin, names, registry, mode);
      const half = measured ? measured.withScores / 2 : HALF_MAX;
      const phases: [string, number][] =
        PHASES === 'throughput'
          ? []
          : [
              ['1,000/s', 1000],
              ['10,000/s', 10_000],
              ...(half === undefined ? [] : ([['half max', half]] as [string, number][])),
            ];
      for (const [label, rate] of phases) {
        // A load generator's client sometimes fails to start on the busy broker (its metadata request is
        // refused); the phase then runs again on fresh topics, at most twice more.
        let lat: Latency | undefined;
        for (let attempt = 1; lat === undefined; attempt++) {
          try {
            lat = await scorerLatency(admin, names, registry, mode, rate);
          } catch (err) {
            if (attempt >= 3) throw err;
            say(`  the phase failed (${(err as Error).message}); running it again`);
          }
        }
        say(
          `  load: offered ${lat.offered} records/s, generated ${lat.generated}, achieved (acknowledged) ${lat.achieved}` +
            ` (${((100 * lat.achieved) / Math.max(1, lat.offered)).toFixed(1)} % of offered; most queued in the generator: ${lat.maxQueued})`,
        );
        say(
          `  latency ${who} at ${label} (${lat.achieved} records/s achieved), produce → score readable (read_committed): ` +
            `p50 ${lat.p50.toFixed(0)} ms, p99 ${lat.p99.toFixed(0)} ms (${lat.samples} records); ` +
            `produce → scorer commit: p50 ${lat.commitP50.toFixed(0)} ms, p99 ${lat.commitP99.toFixed(0)} ms`,
        );
        latencyRows.push(
          `| ${who} | ${label} | ${lat.offered} | ${lat.achieved} | ${lat.p50.toFixed(0)} | ${lat.p99.toFixed(0)} | ${lat.samples} |`,
        );
      }
      if (measured) rows.push(`| ${who} | ${measured.row} |`);
    }
    say(
      '\n| delivery | baseline rec/s (median) | scorer rec/s | ratio | scorer+scores rec/s (median) | ratio, one output per record: median (each pair) |',
    );
    say('|---|---|---|---|---|---|');
    for (const r of rows) say(r);
    say(
      '\n| delivery | phase | offered rec/s | achieved rec/s | p50 ms (produce → readable) | p99 ms | records |',
    );
    say('|---|---|---|---|---|---|---|');
    for (const r of latencyRows) say(r);
  } finally {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${names.name}.`));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    const keys = await redis.keys(`${names.redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await admin.disconnect();
    redis.disconnect();
  }
}

const loadAt = process.argv.indexOf('--load');
const readAt = process.argv.indexOf('--read');
(loadAt >= 0
  ? loadGenerator(
      process.argv[loadAt + 1]!,
      Number(process.argv[loadAt + 2]),
      process.argv[loadAt + 3]!.split(',').map(Number),
      Number(process.argv[loadAt + 4]),
    )
  : readAt >= 0
    ? downstreamReader(process.argv[readAt + 1]!, process.argv[readAt + 2]!)
    : main()
).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
