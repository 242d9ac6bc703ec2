/**
 * The alerts consumer: reads the pipeline's flags topic with only flags of committed scorer transactions
 * visible (the port's committed reader: on kafkajs `shared/kafka/committed-reader.ts`, not kafkajs's
 * read_committed, which lets flags of aborted transactions through when several scorer producers write a
 * partition), turns each flag into an alert
 * or groups it into an open one (`suppression.ts`, state in Redis), and hands new alerts to the
 * deliverer. Offsets are committed after a batch's flags are applied (never past an open transaction);
 * a crash before the commit re-reads them, and the store recognises them as duplicates.
 */
import { RecordDecoder } from '../../shared/avro/decoder.js';
import { FLAG_SCHEMA, type FlagRecord } from '../../shared/avro/schemas.js';
import type { CommittedReader, InRecord, KafkaPort } from '../../shared/kafka/port.js';
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
  kafka: KafkaPort;
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
   * Append flush records to a flags partition whose commit marker the reader skipped, so the flags it
   * commits are alerted without waiting for the partition's next flag (default true; needs write access
   * to the flags topic). See `CommittedReaderOptions.flush` in shared/kafka/port.ts.
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

/** Decodes and applies one partition's committed flags, counting outcomes; wakes the deliverer for new alerts. */
function flagApplier(
  o: AlertsAppOptions,
  stats: AlertsStats,
  deliverer: AlertDeliverer,
  log: Logger,
): (partition: number, records: readonly InRecord[]) => Promise<void> {
  const decoder = new RecordDecoder({ readerSchema: FLAG_SCHEMA, resolveSchemaId: () => FLAG_SCHEMA });
  const timeBase = o.timeBase ?? 'event';
  return async (partition, records) => {
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
  };
}

export function createAlertsApp(o: AlertsAppOptions): AlertsApp {
  const log = (o.logger ?? silentLogger).child({ component: 'alerts' });
  const stats: AlertsStats = { flags: 0, opened: 0, suppressed: 0, duplicates: 0, undecodable: 0 };
  const deliverer = new AlertDeliverer({
    queue: o.store,
    sinks: o.sinks,
    ...(o.retry ? { retry: o.retry } : {}),
    ...(o.leaseMs ? { leaseMs: o.leaseMs } : {}),
    logger: log,
  });
  const applyFlags = flagApplier(o, stats, deliverer, log);
  let reader: CommittedReader | null = null;

  return {
    stats,
    deliverer,
    get pendingFlags() {
      return reader?.pending ?? 0;
    },
    async start() {
      reader = o.kafka.committedReader(
        {
          groupId: o.groupId,
          topics: [o.flagsTopic],
          fromBeginning: o.fromBeginning ?? false,
          flush: o.flush !== false,
          logger: log,
          onRecords: (_topic, partition, records) => applyFlags(partition, records),
        },
        {
          onCrash: (err, restart) => {
            if (restart) return;
            log.error({ err: err.message }, 'alerts consumer crashed and will not restart');
            o.onFatal?.(err);
          },
        },
      );
      await reader.connect();
      deliverer.start();
      await reader.run();
      log.info(
        { topic: o.flagsTopic, groupId: o.groupId, windowMs: o.windowMs, timeBase: o.timeBase ?? 'event' },
        'alerts consumer started',
      );
    },
    async stop() {
      if (reader) {
        await reader.disconnect();
        reader = null;
      }
      await deliverer.stop();
      log.info({ ...stats, ...deliverer.stats }, 'alerts consumer stopped');
    },
  };
}
