/**
 * A paced Kafka load generator for the scorer benchmark's latency phase. It runs in its own process so
 * producing does not compete with the scorer's event loop.
 *
 * Why it is built this way (a single producer sending one 50 ms chunk at a time fell ~25 % short of the
 * target rate):
 * - Pacing: a token bucket refilled every 10 ms from the wall clock, so a late timer does not lose
 *   records and the offered rate is the target rate on average, not a ceiling.
 * - Parallelism: several producers (own connections), each owning a fixed set of partitions, each with
 *   at most two requests in flight; records generated meanwhile are queued and go out in the next,
 *   larger request (capped at 512 KiB), so batching grows with the load instead of the rate shrinking.
 * - Cheap messages: values (Avro with the Confluent header) are encoded once and reused; no key (the
 *   scorer keys records by the value's accountId, and partitions are assigned here explicitly).
 * - acks=1: the benchmark's broker is a single node, so leader acknowledgement is all there is; no
 *   compression (the broker is local).
 * - Each record carries the time the bucket released it as its Kafka timestamp, so the measured
 *   end-to-end latency includes any queueing inside the generator: falling behind cannot hide latency.
 */
import type { Kafka, Message, Producer } from 'kafkajs';

/** Requests in flight per producer: one more than one lets the next batch encode while the last is acked. */
const MAX_IN_FLIGHT = 2;
const MAX_REQUEST_BYTES = 512 * 1024;

export interface LoadOptions {
  kafka: Kafka;
  topic: string;
  /** The partitions this generator writes to. */
  partitions: number[];
  /** Epoch ms at which to start (so that several generator processes share one window); default now. */
  startAt?: number;
  /** Target (offered) rate, records per second. */
  rate: number;
  warmupMs: number;
  measureMs: number;
  /** Pre-encoded record values; reused round-robin. */
  values: Buffer[];
  producers?: number;
  tickMs?: number;
  /** Called once, when the warm-up ends, with the first timestamp that belongs to the measurement window
   * (warm-up records are stamped at most `windowStart`, measured ones after it). */
  onMeasure?: (fromTimestamp: number) => void;
}

export interface LoadResult {
  /** Records generated in total (warm-up included). */
  sent: number;
  /** Records generated in the measurement window (their timestamps fall in it). */
  measured: number;
  /** The target rate. */
  offered: number;
  /** Records released by the token bucket per second over the measurement window. */
  generated: number;
  /** Records acknowledged by the broker per second over the measurement window. */
  achieved: number;
  /** Largest number of records queued in the generator waiting for a producer. */
  maxQueued: number;
}

interface Lane {
  producer: Producer;
  partitions: number[];
  queue: Message[];
  inFlight: number;
  next: number;
}

export async function generateLoad(o: LoadOptions): Promise<LoadResult> {
  const tickMs = o.tickMs ?? 10;
  const producerCount = Math.max(1, Math.min(o.producers ?? 4, o.partitions.length));
  const lanes: Lane[] = Array.from({ length: producerCount }, (_, i) => ({
    producer: o.kafka.producer({ allowAutoTopicCreation: false }),
    partitions: o.partitions.filter((_, j) => j % producerCount === i),
    queue: [],
    inFlight: 0,
    next: 0,
  }));
  await Promise.all(lanes.map((l) => l.producer.connect()));
  const recordBytes = 64 + Math.max(...o.values.map((v) => v.length));

  let sent = 0;
  let measured = 0;
  let maxQueued = 0;
  let ackedInWindow = 0;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  let failure: unknown = null;
  const idle: Array<() => void> = [];

  const flush = (lane: Lane): void => {
    if (lane.inFlight >= MAX_IN_FLIGHT || lane.queue.length === 0 || failure !== null) return;
    // Stay well under the broker's message.max.bytes (1 MiB): a request carries at most this many records.
    const cut = Math.max(1, Math.floor(MAX_REQUEST_BYTES / recordBytes));
    const messages = lane.queue.length <= cut ? lane.queue : lane.queue.slice(0, cut);
    lane.queue = lane.queue.length <= cut ? [] : lane.queue.slice(cut);
    lane.inFlight++;
    lane.producer
      .send({ topic: o.topic, messages, acks: 1, compression: 0 })
      .then(
        () => {
          const at = Date.now();
          if (at >= windowStart && at <= windowEnd) ackedInWindow += messages.length;
        },
        (err: unknown) => {
          failure = err;
        },
      )
      .finally(() => {
        lane.inFlight--;
        flush(lane);
        while (idle.length > 0) idle.pop()!();
      });
  };

  if (o.startAt !== undefined && o.startAt > Date.now()) {
    await new Promise((r) => setTimeout(r, o.startAt! - Date.now()));
  }
  const started = o.startAt ?? Date.now();
  windowStart = started + o.warmupMs;
  windowEnd = windowStart + o.measureMs;
  let tokens = 0;
  let last = started;
  let announced = false;
  for (;;) {
    const now = Date.now();
    if (failure !== null) break;
    if (!announced && now >= windowStart) {
      announced = true;
      o.onMeasure?.(windowStart + 1);
    }
    // Release the tokens earned since the last tick; a tick that straddles the window's start is split,
    // so warm-up tokens are never counted (or stamped) as measured ones.
    const until = Math.min(now, windowEnd);
    const cuts = last < windowStart && until > windowStart ? [windowStart, until] : [until];
    for (const at of cuts) {
      tokens += ((at - last) * o.rate) / 1000;
      last = at;
      const n = Math.floor(tokens);
      tokens -= n;
      const timestamp = String(at);
      for (let j = 0; j < n; j++) {
        const k = sent + j;
        const lane = lanes[k % producerCount]!;
        const partition = lane.partitions[lane.next++ % lane.partitions.length]!;
        lane.queue.push({ partition, value: o.values[k % o.values.length]!, timestamp });
      }
      sent += n;
      if (at > windowStart) measured += n;
    }
    for (const lane of lanes) {
      maxQueued = Math.max(maxQueued, lane.queue.length);
      flush(lane);
    }
    if (now >= windowEnd) break;
    const wait = tickMs - ((Date.now() - started) % tickMs);
    await new Promise((r) => setTimeout(r, wait));
  }
  // Drain what is queued or in flight.
  while (failure === null && lanes.some((l) => l.inFlight > 0 || l.queue.length > 0)) {
    await new Promise<void>((r) => idle.push(r));
  }
  await Promise.all(lanes.map((l) => l.producer.disconnect()));
  if (failure !== null) throw failure;
  const seconds = o.measureMs / 1000;
  return {
    sent,
    measured,
    offered: o.rate,
    generated: measured / seconds,
    achieved: ackedInWindow / seconds,
    maxQueued,
  };
}
