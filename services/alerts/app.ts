/**
 * The alerts consumer: reads the pipeline's flags topic (read_committed, so only flags of committed
 * scorer transactions), turns each flag into an alert or groups it into an open one (`suppression.ts`,
 * state in Redis), and hands new alerts to the deliverer. Offsets are committed after a batch's flags are
 * applied; a crash before the commit re-reads them, and the store recognises them as duplicates.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { RecordDecoder } from '../../shared/avro/decoder.js';
import { FLAG_SCHEMA, type FlagRecord } from '../../shared/avro/schemas.js';
import { silentLogger, type Logger } from '../../shared/log.js';
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
  /** Called after each applied flag (tests, progress output). */
  onOutcome?: (outcome: Outcome, flag: FlagRecord) => void;
}

export interface AlertsApp {
  readonly stats: AlertsStats;
  readonly deliverer: AlertDeliverer;
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

  return {
    stats,
    deliverer,
    async start() {
      consumer = o.kafka.consumer({ groupId: o.groupId, readUncommitted: false });
      await consumer.connect();
      await consumer.subscribe({ topic: o.flagsTopic, fromBeginning: o.fromBeginning ?? false });
      deliverer.start();
      await consumer.run({
        eachBatchAutoResolve: false,
        autoCommit: false,
        eachBatch: async ({
          batch,
          resolveOffset,
          heartbeat,
          isRunning,
          isStale,
          commitOffsetsIfNecessary,
        }) => {
          let opened = 0;
          for (const message of batch.messages) {
            if (!isRunning() || isStale()) break;
            stats.flags++;
            let flag: FlagRecord;
            try {
              flag = (await decoder.decodeAsync(message.value)).value as unknown as FlagRecord;
            } catch (err) {
              stats.undecodable++;
              log.warn(
                { partition: batch.partition, offset: message.offset, err: (err as Error).message },
                'skipping a flag that does not decode',
              );
              resolveOffset(message.offset);
              continue;
            }
            const outcome = await applyFlag(o.store, flag, { windowMs: o.windowMs, timeBase });
            if (outcome === 'opened') {
              stats.opened++;
              opened++;
            } else if (outcome === 'suppressed') stats.suppressed++;
            else stats.duplicates++;
            o.onOutcome?.(outcome, flag);
            resolveOffset(message.offset);
            await heartbeat();
          }
          await commitOffsetsIfNecessary();
          if (opened > 0) deliverer.poke();
        },
      });
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
      await deliverer.stop();
      log.info({ ...stats, ...deliverer.stats }, 'alerts consumer stopped');
    },
  };
}
