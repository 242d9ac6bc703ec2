/**
 * A correct read_committed view for kafkajs consumers of the scorer's outputs.
 *
 * Why this exists: kafkajs implements read_committed on the client (`filterAbortedMessages`), walking
 * the fetch response's aborted-transaction list with one cursor, activating at most one aborted
 * transaction per record and assuming the list is ordered by first offset. The scorer writes each output
 * partition from several transactional producers at once (one per input partition), so aborted
 * transactions of different producers interleave, and under kills or failovers kafkajs then hands out
 * records of aborted transactions to a "read_committed" consumer (observed in the kill test: thousands
 * of aborted score records delivered). Java clients are not affected.
 *
 * The filter here rebuilds read_committed from a read_uncommitted stream by the log's own rule: a
 * transactional record is buffered per (partition, producer id) until that producer's control record
 * says COMMIT (release) or ABORT (drop); non-transactional records pass at once. Read with
 * `readUncommitted: true` and feed it every record kafkajs fetched, control records included
 * (`batch.messagesWithinOffset`, see `rawBatchRecords`). Committed records are released at their commit
 * marker, so across producers they come in commit order rather than offset order; within one producer's
 * transaction offset order is kept. Flags are keyed by their input position, so consumers that must
 * survive replays de-duplicate by key in any case.
 */

/** The part of a kafkajs message the filter reads. */
export interface RawRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext?: { producerId: string | number; inTransaction: boolean };
}

/** Control record keys: version (int16) then type (int16): 0 = ABORT, 1 = COMMIT. */
function controlType(key: Buffer | null): 'abort' | 'commit' | 'other' {
  if (!key || key.length < 4) return 'other';
  const type = key.readInt16BE(2);
  return type === 0 ? 'abort' : type === 1 ? 'commit' : 'other';
}

export class CommittedFilter<T extends RawRecord> {
  private readonly open = new Map<string, T[]>();
  /** Per partition: the offset after the last record fed (the next one expected in log order). */
  private readonly nextOffsets = new Map<number, bigint>();

  /** Feeds one record of `partition` (in log order); returns the records it makes visible. */
  push(partition: number, record: T): T[] {
    this.nextOffsets.set(partition, BigInt(record.offset) + 1n);
    const ctx = record.batchContext;
    if (record.isControlRecord) {
      if (!ctx) return [];
      const id = `${partition}:${ctx.producerId}`;
      const buffered = this.open.get(id) ?? [];
      this.open.delete(id);
      return controlType(record.key) === 'commit' ? buffered : [];
    }
    if (!ctx?.inTransaction) return [record];
    const id = `${partition}:${ctx.producerId}`;
    let buffered = this.open.get(id);
    if (!buffered) {
      buffered = [];
      this.open.set(id, buffered);
    }
    buffered.push(record);
    return [];
  }

  /** Records of transactions still open (neither committed nor aborted yet). */
  get pending(): number {
    let n = 0;
    for (const b of this.open.values()) n += b.length;
    return n;
  }

  /** Records of open transactions of one partition. */
  pendingIn(partition: number): number {
    let n = 0;
    for (const [id, b] of this.open) if (id.startsWith(`${partition}:`)) n += b.length;
    return n;
  }

  /** The offset after the last record fed for `partition`, if any was. */
  nextOffset(partition: number): bigint | undefined {
    return this.nextOffsets.get(partition);
  }

  /**
   * The offset a consumer group may commit for `partition`: the first record of its oldest open
   * transaction, else the next offset. A reader restarted there sees every open transaction whole (its
   * buffered records are not lost with the process); records it re-reads after that point were already
   * released once, so the reader de-duplicates (flags are keyed by their input position).
   */
  committableOffset(partition: number): bigint | undefined {
    let low = this.nextOffsets.get(partition);
    for (const [id, b] of this.open) {
      if (!id.startsWith(`${partition}:`) || b.length === 0) continue;
      const first = BigInt(b[0]!.offset);
      if (low === undefined || first < low) low = first;
    }
    return low;
  }

  /** Forgets what was fed for `partition` (all partitions without an argument): before a re-read. */
  reset(partition?: number): void {
    if (partition === undefined) {
      this.open.clear();
      this.nextOffsets.clear();
      return;
    }
    for (const id of [...this.open.keys()]) if (id.startsWith(`${partition}:`)) this.open.delete(id);
    this.nextOffsets.delete(partition);
  }
}

/** Every record kafkajs fetched for a batch, control records included (kafkajs hides them from `messages`). */
export function rawBatchRecords<T>(batch: { messages: T[] }): T[] {
  const raw = (batch as unknown as { messagesWithinOffset?: T[] }).messagesWithinOffset;
  return Array.isArray(raw) ? raw : batch.messages;
}
