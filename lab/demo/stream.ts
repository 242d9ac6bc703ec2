/**
 * Streams the labelled events onto the records topic at a steady rate, and remembers where each landed.
 *
 * Every record goes to an explicit partition (a hash of its key, so one key keeps its order) and the
 * broker's acknowledgement gives each partition's base offset, so record i is known by (partition,
 * offset): exactly what the scorer writes into its flags and scores. That is how the demo joins flags
 * back to the labels it injected, with no field added to the records.
 *
 * Pacing is a token bucket checked every tick: what is due since the start is sent as one batch (capped),
 * so the rate holds on average even when a send takes longer than a tick.
 */
import { encodeRecord } from '../../shared/avro/encoder.js';
import type { AvroType } from '../../shared/avro/schemas.js';
import type { Producer } from '../../shared/kafka/port.js';
import type { LabelledEvent } from '../generator/index.js';
import type { Observations } from '../report/evaluate.js';

/** Maps (partition, offset) back to stream positions. */
export class OffsetIndex {
  private readonly byPartition = new Map<number, Map<number, number>>();

  set(partition: number, offset: number, index: number): void {
    let m = this.byPartition.get(partition);
    if (!m) this.byPartition.set(partition, (m = new Map()));
    m.set(offset, index);
  }

  get(partition: number, offset: number): number | undefined {
    return this.byPartition.get(partition)?.get(offset);
  }
}

/** FNV-1a of the key, modulo the partition count: stable, and spreads entity ids evenly. */
export function partitionFor(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

export interface StreamOptions {
  producer: Producer;
  topic: string;
  partitions: number;
  type: AvroType;
  /** The streamed part only (no training events); `index` of the first is `indexBase`. */
  events: AsyncIterable<LabelledEvent>;
  indexBase: number;
  /** Records per second; 0 = as fast as the broker takes them. */
  rate: number;
  obs: Observations;
  offsets: OffsetIndex;
  phaseCode: (phase: string) => number;
  signal?: AbortSignal;
  /** Largest batch in one send (default 500). */
  maxBatch?: number;
  tickMs?: number;
  onSent?: (sent: number) => void;
}

export async function streamEvents(o: StreamOptions): Promise<number> {
  const maxBatch = o.maxBatch ?? 500;
  const tickMs = o.tickMs ?? 25;
  const iterator = o.events[Symbol.asyncIterator]();
  let sent = 0;
  let done = false;
  const start = performance.now();
  while (!done && !o.signal?.aborted) {
    const due = o.rate > 0 ? Math.floor((o.rate * (performance.now() - start)) / 1000) - sent : maxBatch;
    if (due <= 0) {
      await new Promise((r) => setTimeout(r, tickMs));
      continue;
    }
    const batch: LabelledEvent[] = [];
    while (batch.length < Math.min(due, maxBatch)) {
      const next = await iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      batch.push(next.value);
    }
    if (batch.length === 0) break;
    const parts = batch.map((e) => partitionFor(e.key, o.partitions));
    const sentAt = Date.now();
    const metadata = await o.producer.send([
      {
        topic: o.topic,
        records: batch.map((e, j) => ({
          key: e.key,
          value: encodeRecord(o.type, e.record),
          partition: parts[j]!,
        })),
      },
    ]);
    if (Number.isNaN(o.obs.originMs)) o.obs.originMs = sentAt;
    const base = new Map<number, number>();
    for (const m of metadata) base.set(m.partition, Number(m.baseOffset));
    const seen = new Map<number, number>();
    batch.forEach((e, j) => {
      const p = parts[j]!;
      const k = seen.get(p) ?? 0;
      seen.set(p, k + 1);
      const offset = base.get(p)! + k;
      const i = e.index - o.indexBase;
      o.offsets.set(p, offset, i);
      o.obs.sentAt[i] = sentAt;
      o.obs.label[i] = e.label;
      o.obs.phase[i] = o.phaseCode(e.phase);
      o.obs.variant[i] = e.variant === 'A' ? 1 : e.variant === 'B' ? 2 : 0;
    });
    sent += batch.length;
    o.onSent?.(sent);
  }
  return sent;
}
