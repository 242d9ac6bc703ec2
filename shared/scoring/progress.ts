/**
 * Per-partition progress: is a partition with records waiting actually advancing?
 *
 * A partition whose batch keeps failing (retried by the consumer) or whose processing hangs looks alive
 * to every other check: the process runs, the group is joined. This tracker remembers, per assigned input
 * partition, the Kafka timestamp of the oldest record fetched but not yet committed and when the
 * partition last advanced (a committed transaction or offset commit). A partition is STALLED when it has
 * such a record and has not advanced for `stallAfterMs`: readiness fails and the age of its oldest
 * unprocessed record (a gauge) keeps growing, so both an orchestrator and an alert see it.
 *
 * Without a fetched batch the tracker knows of no waiting record, so an idle partition is never stalled.
 */

interface PartitionState {
  topic: string;
  partition: number;
  /** Kafka timestamp (ms) of the oldest fetched, uncommitted record; null when nothing waits. */
  oldestPendingTs: number | null;
  /** When the partition last advanced, or when records started waiting after it was idle (ms). */
  lastProgressAt: number;
}

export interface StalledPartition {
  topic: string;
  partition: number;
  /** Milliseconds since it last advanced. */
  sinceMs: number;
  /** Age of its oldest unprocessed record, ms. */
  oldestAgeMs: number;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class PartitionProgress {
  private readonly parts = new Map<string, PartitionState>();

  constructor(
    private readonly stallAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A batch was fetched whose first unprocessed record has Kafka timestamp `oldestTs`. */
  fetched(topic: string, partition: number, oldestTs: number): void {
    const k = key(topic, partition);
    const s = this.parts.get(k);
    const ts = Number.isFinite(oldestTs) ? oldestTs : this.now();
    if (!s) {
      this.parts.set(k, { topic, partition, oldestPendingTs: ts, lastProgressAt: this.now() });
    } else if (s.oldestPendingTs === null) {
      s.oldestPendingTs = ts;
      s.lastProgressAt = this.now();
    }
  }

  /**
   * Records up to some offset were committed. `nextPendingTs` is the timestamp of the next record that
   * is still waiting (fetched but not committed), or null when the partition has caught up.
   */
  advanced(topic: string, partition: number, nextPendingTs: number | null): void {
    const k = key(topic, partition);
    const s = this.parts.get(k) ?? { topic, partition, oldestPendingTs: null, lastProgressAt: 0 };
    s.lastProgressAt = this.now();
    s.oldestPendingTs = nextPendingTs !== null && Number.isFinite(nextPendingTs) ? nextPendingTs : null;
    this.parts.set(k, s);
  }

  /** Forgets partitions not in the assignment (they moved to another member). */
  assigned(assignment: Record<string, readonly number[]>): void {
    const owned = new Set<string>();
    for (const [topic, ps] of Object.entries(assignment)) for (const p of ps) owned.add(key(topic, p));
    for (const k of [...this.parts.keys()]) if (!owned.has(k)) this.parts.delete(k);
  }

  /** Age of the oldest unprocessed record per partition, ms (0 when nothing waits). */
  oldestAges(): { topic: string; partition: number; ageMs: number }[] {
    const now = this.now();
    return [...this.parts.values()].map((s) => ({
      topic: s.topic,
      partition: s.partition,
      ageMs: s.oldestPendingTs === null ? 0 : Math.max(0, now - s.oldestPendingTs),
    }));
  }

  /** Partitions with waiting records that have not advanced for `stallAfterMs`. */
  stalled(): StalledPartition[] {
    const now = this.now();
    const out: StalledPartition[] = [];
    for (const s of this.parts.values()) {
      if (s.oldestPendingTs === null) continue;
      const since = now - s.lastProgressAt;
      if (since >= this.stallAfterMs) {
        out.push({
          topic: s.topic,
          partition: s.partition,
          sinceMs: since,
          oldestAgeMs: Math.max(0, now - s.oldestPendingTs),
        });
      }
    }
    return out;
  }
}
