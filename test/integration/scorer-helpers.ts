/**
 * Helpers for the scorer's integration tests and benchmark: synthetic transactions with known
 * anomalies, tiny detectors trained in a second, scorers wired to a test pipeline, and readers that
 * consume a topic to its end with read_committed.
 */
import { PercentilePolicy, thresholdInfoOf, thresholdPolicyOf } from '../../shared/threshold/index.js';
import type { TestContext } from 'node:test';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type { Redis } from 'ioredis';
import {
  bundledSchemaPath,
  encodeRecord,
  staticSchemaIds,
  TRANSACTION_SCHEMA,
  type TransactionRecord,
} from '../../shared/avro/index.js';
import { ensurePipelineTopics } from '../../shared/kafka/topics.js';
import {
  Detector,
  initBackend,
  sealArtifact,
  trainDetector,
  type ModelArtifact,
} from '../../shared/model/index.js';
import type { FeatureSpec } from '../../shared/preprocessing/spec.js';
import type { PipelineNames } from '../../shared/pipeline.js';
import { buildScorer, type Scorer, type ScorerDeps } from '../../services/scorer/app.js';
import { resolveScorerConfig, type ScorerSettings } from '../../services/scorer/config.js';
import { silentLogger } from '../../shared/log.js';
import { CommittedFilter, rawBatchRecords, type RawRecord } from '../../shared/scoring/read-committed.js';

export const TRANSACTION_SCHEMA_ID = 1;

export const TX_SPEC: FeatureSpec = {
  features: [
    { kind: 'numeric', name: 'amount' },
    { kind: 'numeric', name: 'merchantRisk' },
    { kind: 'numeric', name: 'distanceKm' },
    { kind: 'numeric', name: 'hourOfDay' },
    { kind: 'numeric', name: 'itemCount' },
    { kind: 'categorical', name: 'channel' },
  ],
  scaler: 'standard',
  impute: 'error',
};

/** Deterministic PRNG (mulberry32), so streams and models are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHANNELS = ['web', 'pos', 'mobile'];

/** A normal transaction: every feature in a narrow band. */
export function normalTransaction(i: number, r: () => number, eventTime = Date.now()): TransactionRecord {
  return {
    accountId: `acct-${i % 97}`,
    eventTime,
    amount: 40 + 20 * r(),
    merchantRisk: 0.1 + 0.1 * r(),
    distanceKm: 5 + 5 * r(),
    hourOfDay: 10 + Math.floor(6 * r()),
    itemCount: 1 + Math.floor(3 * r()),
    channel: CHANNELS[Math.floor(r() * CHANNELS.length)]!,
  };
}

/** An anomaly far outside every band (hundreds of standard deviations). */
export function anomalousTransaction(i: number, eventTime = Date.now()): TransactionRecord {
  return {
    accountId: `acct-${i % 97}`,
    eventTime,
    amount: 25_000,
    merchantRisk: 0.99,
    distanceKm: 4000,
    hourOfDay: 3,
    itemCount: 60,
    channel: 'atm',
  };
}

let backendReady: Promise<unknown> | null = null;
export function ensureBackend(): Promise<unknown> {
  backendReady ??= initBackend({ prefer: 'cpu' });
  return backendReady;
}

/**
 * Trains a tiny detector on normal transactions (a few epochs: seconds) and returns its artifact with
 * the threshold set to `thresholdFactor` × the training maximum, so normal rows are never flagged and
 * the far-out anomalies always are.
 */
export async function tinyModelArtifact(
  opts: {
    seed?: number;
    thresholdFactor?: number;
    spec?: FeatureSpec;
    rows?: Record<string, unknown>[];
  } = {},
): Promise<ModelArtifact> {
  await ensureBackend();
  const r = rng(opts.seed ?? 7);
  const rows = opts.rows ?? Array.from({ length: 400 }, (_, i) => ({ ...normalTransaction(i, r) }));
  const detector = await trainDetector(rows, {
    spec: opts.spec ?? TX_SPEC,
    fit: { epochs: 4, batchSize: 64, seed: opts.seed ?? 7 },
    threshold: { kind: 'percentile', params: { percentile: 100 } },
    source: 'test:synthetic-transactions',
  });
  try {
    return withThreshold(
      detector.toArtifact(),
      detector.manifest.threshold.value * (opts.thresholdFactor ?? 3),
    );
  } finally {
    detector.dispose();
  }
}

/** The artifact re-sealed with another threshold value for its percentile policy (the digest covers it). */
export function withThreshold(a: ModelArtifact, value: number): ModelArtifact {
  const policy = thresholdPolicyOf(a.manifest.threshold);
  if (policy.kind !== 'percentile') throw new Error('withThreshold: only for percentile policies');
  const json = policy.toJSON();
  const moved = PercentilePolicy.fromJSON({ ...json, state: { ...json.state, threshold: value } });
  return sealArtifact({ ...a.manifest, threshold: thresholdInfoOf(moved) }, a.weights);
}

export function encodeTransaction(tx: TransactionRecord, framed = true): Buffer {
  return encodeRecord(TRANSACTION_SCHEMA, tx, framed ? { schemaId: TRANSACTION_SCHEMA_ID } : {});
}

export async function createPipelineTopics(
  admin: Admin,
  names: PipelineNames,
  partitions: number,
): Promise<void> {
  await ensurePipelineTopics(admin, names, { partitions, replicationFactor: 1 });
}

/** A scorer for a test pipeline, stopped when the test ends. */
export function testScorer(
  t: TestContext,
  names: PipelineNames,
  deps: Omit<ScorerDeps, 'loadModel'> & Partial<Pick<ScorerDeps, 'loadModel'>>,
  settings: Partial<Record<keyof ScorerSettings, unknown>> = {},
): Scorer {
  const config = resolveScorerConfig({
    pipeline: names.name,
    recordSchema: bundledSchemaPath('transaction'),
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 1000,
    modelPollMs: 300,
    metricsPort: 0,
    eventTimeField: 'eventTime',
    keyField: 'accountId',
    shutdownTimeoutMs: 20_000,
    ...settings,
  });
  const scorer = buildScorer(config, {
    loadModel: (a) => Detector.fromArtifact(a),
    readerSchema: TRANSACTION_SCHEMA,
    resolveSchemaId: staticSchemaIds({ [TRANSACTION_SCHEMA_ID]: TRANSACTION_SCHEMA }),
    logger: silentLogger,
    ...deps,
  });
  t.after(() => scorer.stop());
  return scorer;
}

/** Sum over partitions of the group's committed offsets of `topic` equals the topic's end: all consumed. */
export async function groupCaughtUp(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map(committed[0]?.partitions.map((p) => [p.partition, BigInt(p.offset)]) ?? []);
  return ends.every((e) => (done.get(e.partition) ?? -1n) >= BigInt(e.high));
}

const READ_SENTINEL = '__smae_read_sentinel__';
type Fetched = KafkaMessage & RawRecord;

export interface ReadMessage {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/**
 * Reads `topic` from the beginning to its current end (high watermark, control records included) with
 * a fresh group. Read-committed by default, through `CommittedFilter` over a read_uncommitted fetch,
 * because kafkajs's own read_committed filter lets aborted records through when transactions of several
 * producers interleave (see shared/scoring/read-committed.ts). `readUncommitted: true` returns everything.
 *
 * kafkajs does not hand a batch holding only control records to `eachBatch`, so a commit marker at the
 * very end of a partition would never reach the filter. A non-transactional sentinel record is first
 * appended to every partition (and left out of the result), so every marker is followed by data.
 */
export async function readTopicToEnd(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  opts: { readUncommitted?: boolean; kafkajsReadCommitted?: boolean; timeoutMs?: number } = {},
): Promise<ReadMessage[]> {
  const partitions = (await admin.fetchTopicOffsets(topic)).map((e) => e.partition);
  const sentinel = kafka.producer({ allowAutoTopicCreation: false });
  await sentinel.connect();
  await sentinel.send({
    topic,
    acks: -1,
    messages: partitions.map((partition) => ({ partition, key: READ_SENTINEL, value: null })),
  });
  await sentinel.disconnect();
  const ends = await admin.fetchTopicOffsets(topic);
  const target = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const position = new Map(ends.map((e) => [e.partition, BigInt(e.low)]));
  const done = (): boolean => [...target].every(([p, high]) => (position.get(p) ?? 0n) >= high);
  const out: ReadMessage[] = [];
  if (done()) return out;
  const groupId = `read-${topic}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  // kafkajsReadCommitted: kafkajs's own read_committed filtering, for comparison only.
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: !opts.kafkajsReadCommitted,
    maxWaitTimeInMs: 200,
  });
  const filter = new CommittedFilter<Fetched>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const raw = rawBatchRecords(batch) as Fetched[];
        for (const m of raw) {
          const visible = opts.readUncommitted
            ? m.isControlRecord
              ? []
              : [m]
            : filter.push(batch.partition, m);
          for (const v of visible) {
            if (v.key?.toString() === READ_SENTINEL) continue;
            out.push({
              partition: batch.partition,
              offset: v.offset,
              key: v.key ?? null,
              value: v.value ?? null,
              headers: v.headers ?? {},
            });
          }
        }
        resolveOffset(batch.lastOffset());
        const next = BigInt(batch.lastOffset()) + 1n;
        if (next > (position.get(batch.partition) ?? 0n)) position.set(batch.partition, next);
      },
    });
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    while (!done()) {
      if (Date.now() > deadline) {
        throw new Error(
          `reading ${topic} to its end timed out: positions ${JSON.stringify([...position].map(([p, o]) => [p, String(o)]))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return out;
}

/** Produces records in chunks (one produce request per chunk). */
export async function produceAll(
  producer: {
    send(r: {
      topic: string;
      messages: { key?: string | null; value: Buffer | null; partition?: number }[];
    }): Promise<unknown>;
  },
  topic: string,
  messages: { key?: string | null; value: Buffer | null; partition?: number }[],
  chunk = 500,
): Promise<void> {
  for (let i = 0; i < messages.length; i += chunk) {
    await producer.send({ topic, messages: messages.slice(i, i + chunk) });
  }
}

export type { Redis };
