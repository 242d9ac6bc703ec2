/**
 * Reads what the pipeline produced — scores, flags and dead letters of committed scorer transactions only
 * (the port's committed reader) — and joins each back to the record the demo sent, by input partition and offset.
 *
 * A score's arrival time is the record's end-to-end latency as a consumer sees it: produced by the demo,
 * consumed, scored and committed by the scorer, then visible after the transaction's commit.
 */
import { RecordDecoder } from '../../shared/avro/decoder.js';
import { FLAG_SCHEMA, SCORE_SCHEMA, type FlagRecord, type ScoreRecord } from '../../shared/avro/schemas.js';
import type { PipelineNames } from '../../shared/pipeline.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import type { CommittedReader, InRecord, KafkaPort } from '../../shared/kafka/port.js';
import type { Observations } from '../report/evaluate.js';
import type { OffsetIndex } from './stream.js';

const DLQ_PARTITION = 'smae.source.partition';
const DLQ_OFFSET = 'smae.source.offset';
const DLQ_CODE = 'smae.error.code';

export interface CollectorStats {
  scores: number;
  flags: number;
  deadLetters: number;
  /** Outputs naming an input position the demo did not send (another producer, or a bug). */
  unmatched: number;
  undecodable: number;
  deadLettersByCode: Record<string, number>;
}

export interface Collector {
  readonly stats: CollectorStats;
  /**
   * Joins outputs that arrived before the demo had recorded where their input landed (the producer's
   * acknowledgement can trail a fast scorer); call periodically and before measuring.
   */
  reconcile(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createCollector(o: {
  kafka: KafkaPort;
  names: PipelineNames;
  obs: Observations;
  offsets: OffsetIndex;
  groupId: string;
  logger?: Logger;
}): Collector {
  const log = (o.logger ?? silentLogger).child({ component: 'demo-collector' });
  const stats: CollectorStats = {
    scores: 0,
    flags: 0,
    deadLetters: 0,
    unmatched: 0,
    undecodable: 0,
    deadLettersByCode: {},
  };
  const scores = new RecordDecoder({ readerSchema: SCORE_SCHEMA, resolveSchemaId: () => SCORE_SCHEMA });
  const flags = new RecordDecoder({ readerSchema: FLAG_SCHEMA, resolveSchemaId: () => FLAG_SCHEMA });
  const t = o.names.topics;
  let reader: CommittedReader | null = null;

  type Apply = (i: number) => void;
  let pending: { partition: number; offset: number; apply: Apply }[] = [];
  const join = (partition: number, offset: number, apply: Apply): void => {
    const i = o.offsets.get(partition, offset);
    if (i === undefined) pending.push({ partition, offset, apply });
    else apply(i);
  };
  const applyScore =
    (s: ScoreRecord, now: number): Apply =>
    (i) => {
      if (Number.isNaN(o.obs.scoredAt[i]!)) o.obs.scoredAt[i] = now;
      o.obs.score[i] = s.score;
      o.obs.version[i] = s.modelVersion === null ? -1 : Number(s.modelVersion);
    };
  const applyFlag =
    (f: FlagRecord): Apply =>
    (i) => {
      if (o.obs.flagged[i]) o.obs.duplicateFlags++;
      o.obs.flagged[i] = 1;
      if (Number.isNaN(o.obs.score[i]!)) o.obs.score[i] = f.score;
    };

  /** Decodes one output and joins it to the input it names. */
  const collect = async (topic: string, m: InRecord, now: number): Promise<void> => {
    try {
      if (topic === t.scores) {
        const s = (await scores.decodeAsync(m.value)).value as unknown as ScoreRecord;
        stats.scores++;
        join(s.partition, Number(s.offset), applyScore(s, now));
      } else if (topic === t.flags) {
        const f = (await flags.decodeAsync(m.value)).value as unknown as FlagRecord;
        stats.flags++;
        join(f.partition, Number(f.offset), applyFlag(f));
      } else {
        stats.deadLetters++;
        const h = m.headers;
        const code = String(h[DLQ_CODE] ?? 'unknown');
        stats.deadLettersByCode[code] = (stats.deadLettersByCode[code] ?? 0) + 1;
        join(Number(String(h[DLQ_PARTITION])), Number(String(h[DLQ_OFFSET])), (i) => {
          o.obs.deadLettered[i] = 1;
        });
      }
    } catch (err) {
      stats.undecodable++;
      log.warn({ topic, offset: m.offset, err: (err as Error).message }, 'cannot decode output');
    }
  };

  return {
    stats,
    reconcile() {
      const still: typeof pending = [];
      for (const p of pending) {
        const i = o.offsets.get(p.partition, p.offset);
        if (i === undefined) still.push(p);
        else p.apply(i);
      }
      pending = still;
      stats.unmatched = pending.length;
    },
    async start() {
      // Only records of committed transactions: kafkajs's read_committed lets records of aborted scorer
      // transactions through when several scorer producers write one partition, which would count
      // aborted scores and flags (the port's committed reader filters them itself).
      // Latency is measured on arrival here, so the group must be joined before the first record is sent.
      let joined!: () => void;
      const groupJoined = new Promise<void>((resolve) => (joined = resolve));
      reader = o.kafka.committedReader(
        {
          groupId: o.groupId,
          topics: [t.scores, t.flags, t.deadLetters],
          fromBeginning: true,
          // A fresh group per run that is deleted afterwards: nothing to commit.
          commit: false,
          maxWaitTimeMs: 100,
          concurrency: 3,
          logger: log,
          onRecords: async (topic, _partition, records) => {
            const now = Date.now();
            for (const m of records) await collect(topic, m, now);
          },
        },
        { onAssignment: () => joined() },
      );
      await reader.connect();
      await reader.run();
      await Promise.race([groupJoined, new Promise((r) => setTimeout(r, 30_000))]);
    },
    async stop() {
      if (reader) await reader.disconnect();
      reader = null;
    },
  };
}
