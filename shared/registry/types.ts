/** The registry's public types. */
import type { ModelArtifact } from '../model/artifact.js';

/** Who publishes: the trainer, the adapter, a rollback, or any other named tool. */
export type Publisher = 'trainer' | 'adapter' | 'rollback' | (string & {});

export interface PublishMeta {
  publishedBy: Publisher;
  /** Why: shown in `smae models list` and kept with the version for audit. */
  reason: string;
  /**
   * Optimistic concurrency: publish only if the current version is still this one (null = only if
   * there is no current version yet). Omit to publish unconditionally. A stale expectation fails
   * with PUBLISH_CONFLICT (retriable) and writes nothing.
   */
  expectedParent?: number | null;
}

export interface PublishedModel {
  version: number;
  /** Verified; `manifest.version === version` and `manifest.pipeline` is the registry's pipeline. */
  artifact: ModelArtifact;
  publishedBy: Publisher;
  reason: string;
  /** ISO-8601. */
  publishedAt: string;
  /** The current version at the moment this one was committed (0 = none). */
  previous: number;
}

export interface PublishResult extends PublishedModel {
  /**
   * Whether the current pointer moved to this version. False only for an unconditional publish that
   * lost a race to a higher version committed first: the version is kept in history, not made current.
   */
  promoted: boolean;
}

export type Integrity = 'ok' | 'failed' | 'unchecked';

/** One line of `smae models list`. */
export interface VersionSummary {
  version: number;
  current: boolean;
  publishedBy: string;
  reason: string;
  publishedAt: string;
  /** The version this model was derived from (the adapter's base, a rollback's predecessor). */
  parentVersion: number | null;
  /** The current version when this one was committed (0 = none). */
  previous: number;
  digest: string;
  /** First 12 hex characters of the digest, for display. */
  digestPrefix: string;
  threshold: number | null;
  /** The percentile, for a `percentile` threshold policy. */
  percentile: number | null;
  /** The threshold policy's kind (`percentile` for models from before policies); null if unreadable. */
  thresholdPolicy: string | null;
  trainingRows: number | null;
  epochs: number | null;
  finalLoss: number | null;
  source: string | null;
  backend: string | null;
  adaptation: boolean;
  /** `unchecked` unless the list was asked to verify digests. */
  integrity: Integrity;
  /** Why verification failed, when it did. */
  problem?: string;
}

export interface WatchOptions {
  /** How often the pointer is re-read, in ms (default 5000): the safety net for missed notifications. */
  pollMs?: number;
  /** Deliver only versions newer than this (e.g. the version the consumer already runs). Default 0. */
  afterVersion?: number;
  /** Called when a version fails verification and is skipped (after it is logged and counted). */
  onRejected?: (version: number, error: Error) => void;
}

export interface WatchHandle {
  /** Stops polling and unsubscribes; resolves when the subscriber connection is closed. */
  close(): Promise<void>;
  /** Re-reads the pointer now (what the timer and notifications do); resolves when the check is done. */
  check(): Promise<void>;
  readonly stats: WatchStats;
}

export interface WatchStats {
  /** Highest version delivered to the callback (0 = none yet). */
  lastDelivered: number;
  delivered: number;
  /** Versions refused by verification (each counted once). */
  rejected: number;
  notifications: number;
  polls: number;
  /** Errors reading Redis (the watcher keeps trying). */
  errors: number;
}
