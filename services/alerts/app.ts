/**
 * The alerts consumer: reads the pipeline's flags topic with only flags of committed scorer transactions
 * visible (`shared/scoring/committed-reader.ts`, not kafkajs's read_committed, which lets flags of aborted
 * transactions through when several scorer producers write a partition), turns each flag into an alert
 * or groups it into an open one (`suppression.ts`, state in Redis), and hands new alerts to the
 * deliverer. Offsets are committed after a batch's flags are applied (never past an open transaction);
 * a crash before the commit re-reads them, and the store recognises them as duplicates.
 */
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { RecordDecoder } from '../../shared/avro/decoder.js';
import { FLAG_SCHEMA, type FlagRecord } from '../../shared/avro/schemas.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { createCommittedReader } from '../../shared/scoring/committed-reader.js';
import { AlertDeliverer, type AlertSink, type RetryOptions } from './delivery.js';
import { RedisAlertStore } from './redis-store.js';
import { alertKey, buildAlert, flagId, type AlertStore, type Outcome } from './suppression.js';

export type TimeBase = 'event' | 'processing';

export interface AlertsStats {
  flags: number;
  opened: number;
  suppressed: number;
  duplicates: number;
  undecodable: number;
}

/** Applies one decoded flag to the store; the part of the consumer that needs no Kafka. */
export async function applyFlag(
  store: AlertStore,
  flag: FlagRecord,
  opts: { windowMs: number; timeBase: TimeBase; now?: () => number },
): Promise<Outcome> {
  const at = opts.timeBase === 'event' ? Number(flag.eventTime) : (opts.now ?? Date.now)();
  const alert = buildAlert(flag, at, opts.windowMs);
  return store.apply({ id: flagId(flag), key: alertKey(flag), at }, alert, opts.windowMs);
}

export interface AlertsAppOptions {
  kafka: Kafka;
  store: RedisAlertStore;
  flagsTopic: string;
  groupId: string;
  sinks: AlertSink[];
  windowMs: number;
  timeBase?: TimeBase;
  /** For a group with no committed offset: start at the topic's beginning (default: its end). */
  fromBeginning?: boolean;
  retry?: RetryOptions;
  leaseMs?: number;
  logger?: Logger;
  /**
   * Append flush records to a flags partition whose commit marker kafkajs skipped, so the flags it
   * commits are alerted without waiting for the partition's next flag (default true; needs write access
   * to the flags topic). See shared/scoring/committed-reader.ts.
   */
  flush?: boolean;
  /**
   * Called when the consumer stopped for good (kafkajs gave up restarting it): the process should exit
   * rather than live on without reading flags.
   */
  onFatal?: (err: Error) => void;
  /** Called after each applied flag (tests, progress output). */
  onOutcome?: (outcome: Outcome, flag: FlagRecord) => void;
}

export interface AlertsApp {
  readonly stats: AlertsStats;
  readonly deliverer: AlertDeliverer;
  /** Flags of scorer transactions not yet committed or aborted, held back. */
  readonly pendingFlags: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAlertsApp(o: AlertsAppOptions): AlertsApp {
  const log = (o.logger ?? silentLogger).child({ component: 'alerts' });
  const stats: AlertsStats = { flags: 0, opened: 0, suppressed: 0, duplicates: 0, undecodable: 0 };
  const decoder = new RecordDecoder({ readerSchema: FLAG_SCHEMA, resolveSchemaId: () => FLAG_SCHEMA });
  const deliverer = new AlertDeliverer({
    queue: o.store,
    sinks: o.sinks,
    ...(o.retry ? { retry: o.retry } : {}),
    ...(o.leaseMs ? { leaseMs: o.leaseMs } : {}),
    logger: log,
  });
  const timeBase = o.timeBase ?? 'event';
  let consumer: Consumer | null = null;
  let flushProducer: Producer | null = null;
  let pendingOf = (): number => 0;

  return {
    stats,
    deliverer,
    get pendingFlags() {
      return pendingOf();
    },
    async start() {
      // Read uncommitted and decide by the control records ourselves: kafkajs's read_committed lets
      // flags of aborted scorer transactions through (see shared/scoring/committed-reader.ts).
      consumer = o.kafka.consumer({ groupId: o.groupId, readUncommitted: true });
      if (o.flush !== false) {
        flushProducer = o.kafka.producer({
          allowAutoTopicCreation: false,
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await flushProducer.connect();
      }
      consumer.on(consumer.events.CRASH, (e) => {
        if (e.payload.restart) return;
        log.error({ err: e.payload.error.message }, 'alerts consumer crashed and will not restart');
        o.onFatal?.(e.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topic: o.flagsTopic, fromBeginning: o.fromBeginning ?? false });
      deliverer.start();
      const reader = createCommittedReader({
        consumer,
        ...(flushProducer ? { flushProducer } : {}),
        logger: log,
        onRecords: async (_topic, partition, records) => {
          let opened = 0;
          for (const message of records) {
            stats.flags++;
            let flag: FlagRecord;
            try {
              flag = (await decoder.decodeAsync(message.value)).value as unknown as FlagRecord;
            } catch (err) {
              stats.undecodable++;
              log.warn(
                { partition, offset: message.offset, err: (err as Error).message },
                'skipping a flag that does not decode',
              );
              continue;
            }
            const outcome = await applyFlag(o.store, flag, { windowMs: o.windowMs, timeBase });
            if (outcome === 'opened') {
              stats.opened++;
              opened++;
            } else if (outcome === 'suppressed') stats.suppressed++;
            else stats.duplicates++;
            o.onOutcome?.(outcome, flag);
          }
          if (opened > 0) deliverer.poke();
        },
      });
      pendingOf = () => reader.pending;
      await reader.run();
      log.info(
        { topic: o.flagsTopic, groupId: o.groupId, windowMs: o.windowMs, timeBase },
        'alerts consumer started',
      );
    },
    async stop() {
      if (consumer) {
        await consumer.disconnect();
        consumer = null;
      }
      if (flushProducer) {
        await flushProducer.disconnect();
        flushProducer = null;
      }
      await deliverer.stop();
      log.info({ ...stats, ...deliverer.stats }, 'alerts consumer stopped');
    },
  };
}
