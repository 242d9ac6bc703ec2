/**
 * Raw Kafka records for the read_committed filter's unit tests: plain records, transactional records
 * and the control records (commit/abort markers) that end a producer's transaction.
 */
import type { RawRecord } from '../../shared/kafka/read-committed.js';

/** A control record's key: the transaction committed. */
export const COMMIT = Buffer.from([0, 0, 0, 1]);
/** A control record's key: the transaction aborted. */
export const ABORT = Buffer.from([0, 0, 0, 0]);

/**
 * The record at `offset`: plain (`producerId` null), part of `producerId`'s open transaction, or, with
 * `control`, that transaction's commit/abort marker. `id` (`A@3`, `plain@2`) names it in assertions.
 */
export function rec(offset: number, producerId: string | null, control?: Buffer): RawRecord & { id: string } {
  return {
    id: `${producerId ?? 'plain'}@${offset}`,
    offset: String(offset),
    key: control ?? null,
    isControlRecord: control !== undefined,
    batchContext: {
      producerId: producerId ?? '-1',
      inTransaction: producerId !== null && control === undefined,
    },
  };
}
