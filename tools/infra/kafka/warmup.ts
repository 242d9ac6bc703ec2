/**
 * Warming a local broker up before latency is measured on it.
 *
 * A JVM broker handles its first requests in interpreted code and compiles its hot paths only as they get
 * hot. On this project's 2-core machines the demo's scores took minutes to reach their steady latency: the
 * demo's p99 over its run was 197–613 ms on a just-started broker and 77 ms on one that had carried a few
 * demos before (docs/RESULTS.md, "The demo on a just-started broker"). `warmUpBroker` exercises the paths
 * the pipeline uses (transactions that send records and consumer offsets and commit, plain sends,
 * read_committed fetches) on two scratch topics until its signal aborts or its time is up, then deletes
 * them. A transaction that fails (a just-started broker may not serve its coordinators yet) is counted and
 * the next one tried a little later. For the local development broker only: never point it at a cluster
 * someone else runs.
 */
import type { KafkaPort, OutRecord, Transaction, TransactionalProducer } from '../../../shared/kafka/port.js';
import { sleep } from '../common.js';

export interface WarmUpOptions {
  /** Stops the warm-up (after the transactions in flight); without it, `maxSeconds` does. */
  signal?: AbortSignal;
  /** The longest the warm-up runs (60). */
  maxSeconds?: number;
  /** Transactional producers running side by side, one scratch partition each (4). */
  producers?: number;
}

export interface WarmUpResult {
  transactions: number;
  /** Transactions that failed (and were retried after `RETRY_AFTER_MS`), and the last one's error. */
  failures: number;
  lastError: unknown;
  recordsRead: number;
  seconds: number;
}

/** How long a producer waits after a failed transaction before the next. */
const RETRY_AFTER_MS = 250;

/** Records per send: about a demo batch's worth. */
const RECORDS_PER_SEND = 20;

function records(partition: number): OutRecord[] {
  return Array.from({ length: RECORDS_PER_SEND }, (_, i) => ({
    key: String(i),
    value: Buffer.alloc(120, i),
    partition,
  }));
}

/**
 * Runs transactions on scratch topics until `signal` aborts or `maxSeconds` pass, reading their outputs
 * read_committed meanwhile; the scratch topics are deleted at the end, also after an error.
 */
export async function warmUpBroker(kafka: KafkaPort, opts: WarmUpOptions = {}): Promise<WarmUpResult> {
  const producers = opts.producers ?? 4;
  const t0 = Date.now();
  const until = t0 + (opts.maxSeconds ?? 60) * 1000;
  const running = (): boolean => !opts.signal?.aborted && Date.now() < until;
  const name = `smae-warmup-${process.pid}-${t0}`;
  const input = `${name}.in`;
  const output = `${name}.out`;
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  let recordsRead = 0;
  const reader = kafka.committedReader({
    groupId: `${name}.reader`,
    topics: [output],
    fromBeginning: true,
    commit: false,
    onRecords: async (_topic, _partition, batch) => {
      recordsRead += batch.length;
    },
  });
  const opened: TransactionalProducer[] = [];
  let transactions = 0;
  let failures = 0;
  let lastError: unknown = null;
  try {
    await admin.ensureTopics([
      { topic: input, numPartitions: producers },
      { topic: output, numPartitions: producers },
    ]);
    await producer.connect();
    await reader.connect();
    await reader.run();
    await Promise.all(
      Array.from({ length: producers }, async (_, partition) => {
        const tp = kafka.transactionalProducer({
          transactionalId: `${name}.${partition}`,
          transactionTimeoutMs: 30_000,
        });
        opened.push(tp);
        let open = false;
        for (let n = 1; running(); n++) {
          // A just-started broker may not serve its coordinators yet: what fails is retried shortly.
          let tx: Transaction | undefined;
          try {
            if (!open) await tp.open();
            open = true;
            await producer.send([{ topic: input, records: records(partition) }]);
            tx = await tp.transaction();
            await tx.send([{ topic: output, records: records(partition) }]);
            await tx.sendOffsets({
              groupId: `${name}.group`,
              offsets: [{ topic: input, partition, offset: String(n) }],
            });
            await tx.commit();
            transactions++;
          } catch (err) {
            failures++;
            lastError = err;
            if (tx?.isActive()) await tx.abort().catch(() => undefined);
            await sleep(RETRY_AFTER_MS);
          }
        }
      }),
    );
  } finally {
    await reader.disconnect().catch(() => undefined);
    for (const tp of opened) await tp.close().catch(() => undefined);
    await producer.close().catch(() => undefined);
    await admin.deleteTopics([input, output]).catch(() => undefined);
    await admin.deleteGroups([`${name}.reader`, `${name}.group`]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  return { transactions, failures, lastError, recordsRead, seconds: (Date.now() - t0) / 1000 };
}
