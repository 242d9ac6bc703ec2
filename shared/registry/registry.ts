/**
 * The model registry: immutable, monotonically numbered, verifiable model versions per pipeline, a
 * "current" pointer that only moves forward, a bounded history, rollback, and a watch for consumers.
 *
 * Why Redis. Every service of a pipeline already talks to Redis (the adapter's BullMQ queues, the
 * scorer's recent window), a model is small (kilobytes to a few megabytes), and what the registry
 * needs most is an atomic compare-and-move over several keys, which a Lua script gives in one round
 * trip with no extra server. Key layout: `keys.ts`; scripts: `scripts.ts`; hash encoding: `codec.ts`.
 *
 * Publishing, step by step:
 * 1. `reserve` (Lua) takes the next version number with INCR on `models:seq` — unique even with many
 *    concurrent publishers — after checking the optimistic `expectedParent`, if one is given.
 * 2. The manifest gets `version` and `pipeline` and is re-sealed, so the digest covers both: a version
 *    copied under another number or into another pipeline no longer verifies.
 * 3. `commit` (Lua) writes the whole version hash, appends it to the history, moves `models:current`
 *    only if the new version is higher (and, with `expectedParent`, only if the pointer has not moved:
 *    PUBLISH_CONFLICT otherwise, nothing written), trims history beyond `historyLimit` (never the
 *    current version) and publishes the announcement — one atomic step, so a reader sees the old
 *    version or the new one and never a half-written one.
 * A publisher that dies between 1 and 3 leaves only a gap in the numbering: versions are unique and
 * increasing, not necessarily contiguous.
 *
 * Notifications: Redis pub/sub on `models:events`, sent from inside the commit script. Why not a
 * compacted Kafka topic: the announcement would be a second write to a second system that cannot be
 * atomic with the pointer move (a crash between them leaves a pointer nobody was told about, or an
 * announcement of a version that was never committed). Pub/sub is at-most-once, so it is only the
 * fast path: `watch()` also reads the pointer on start, after every reconnect and every `pollMs`, and
 * the pointer is the single source of truth. A late or reconnecting consumer converges within one poll.
 *
 * Every read verifies: the digest over manifest and weights, and that the manifest names this version
 * and pipeline (INTEGRITY_CHECK_FAILED otherwise), then the Ed25519 signature against the trusted keys
 * (UNTRUSTED_MODEL: unsigned, untrusted key or bad signature; `signing.ts`). `watch()` logs, counts and
 * skips a refused version, so consumers keep the model they have. Publishing signs each version with
 * the process's signing key, and is refused without one unless unsigned models are explicitly allowed.
 */
import type { Redis } from 'ioredis';
import { ConfigError, ModelError, SmaeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { sealArtifact, verifyArtifact, type ModelArtifact } from '../model/artifact.js';
import { validatePipelineName } from '../pipeline.js';
import { decodeVersion, encodeVersion, pairsToRecord, summarize } from './codec.js';
import { registryKeys, type RegistryKeys } from './keys.js';
import { COMMIT, READ_CURRENT, RESERVE } from './scripts.js';
import type {
  PublishMeta,
  PublishResult,
  PublishedModel,
  VersionSummary,
  WatchHandle,
  WatchOptions,
} from './types.js';
import { RegistryWatcher } from './watch.js';
import {
  assertCanPublish,
  processModelTrust,
  signForPublish,
  verifyModelSignature,
  type ModelTrust,
} from './signing.js';

export interface ModelRegistryOptions {
  redis: Redis;
  pipeline: string;
  /** How many versions to keep (the current one is never trimmed). Default 50. */
  historyLimit?: number;
  logger?: Logger;
  /** Signing key and trusted keys; default: from the process environment (`processModelTrust()`). */
  trust?: ModelTrust;
}

export const REGISTRY_DEFAULTS = { historyLimit: 50, pollMs: 5000 } as const;

/** The announcement sent on `models:events` when the current pointer moves. */
export interface ModelEvent {
  type: 'published';
  pipeline: string;
  version: number;
  digest: string;
  publishedBy: string;
  publishedAt: string;
}

export class ModelRegistry {
  readonly pipeline: string;
  readonly keys: RegistryKeys;
  readonly historyLimit: number;
  private readonly redis: Redis;
  private readonly logger: Logger;
  readonly trust: ModelTrust;

  constructor(opts: ModelRegistryOptions) {
    this.trust = opts.trust ?? processModelTrust();
    this.pipeline = validatePipelineName(opts.pipeline);
    this.keys = registryKeys(opts.pipeline);
    this.historyLimit = opts.historyLimit ?? REGISTRY_DEFAULTS.historyLimit;
    if (!Number.isInteger(this.historyLimit) || this.historyLimit < 1) {
      throw new ConfigError('invalid registry options', [
        { path: 'historyLimit', message: `must be an integer ≥ 1 (got ${String(opts.historyLimit)})` },
      ]);
    }
    this.redis = opts.redis;
    this.logger = (opts.logger ?? silentLogger).child({ component: 'registry', pipeline: this.pipeline });
  }

  /**
   * Publishes an artifact as the next version. The artifact must verify; its `version` and `pipeline`
   * are overwritten (and the digest recomputed), its `parentVersion` is kept as the caller set it.
   */
  async publish(artifact: ModelArtifact, meta: PublishMeta): Promise<PublishResult> {
    checkPublishable(artifact, meta);
    const expected = meta.expectedParent === undefined ? '' : String(meta.expectedParent ?? 0);
    assertCanPublish(this.trust); // before a version number is reserved
    const version = await this.reserve(expected, meta);
    // Step 2: re-sealed under its number and pipeline, then signed.
    const sealed = sealArtifact({ ...artifact.manifest, version, pipeline: this.pipeline }, artifact.weights);
    const publishedAt = new Date().toISOString();
    const signature = signForPublish(this.trust, {
      pipeline: this.pipeline,
      version,
      digest: sealed.digest,
      publishedBy: meta.publishedBy,
      reason: meta.reason,
      publishedAt,
    });
    const { promoted, previous, trimmed } = await this.commit({
      version,
      sealed,
      expected,
      meta,
      publishedAt,
      signature,
    });
    this.logPublished({ version, promoted, previous, trimmed, meta, digest: sealed.digest, signature });
    return {
      version,
      artifact: sealed,
      publishedBy: meta.publishedBy,
      reason: meta.reason,
      publishedAt,
      previous,
      promoted,
      signedBy: signature?.keyId ?? null,
    };
  }

  /** Step 1: the next version number, after the optimistic `expectedParent` check ('' = none). */
  private async reserve(expected: string, meta: PublishMeta): Promise<number> {
    const reserved = (await this.io(() =>
      RESERVE.run(this.redis, [this.keys.seq, this.keys.current, this.keys.history], [expected]),
    )) as [string, number];
    if (reserved[0] === 'CONFLICT') throw this.conflict(meta.expectedParent ?? null, Number(reserved[1]));
    return Number(reserved[1]);
  }

  /** Step 3: writes the version, moves the pointer if it is the highest, trims, announces; one script. */
  private async commit(c: {
    version: number;
    sealed: ModelArtifact;
    expected: string;
    meta: PublishMeta;
    publishedAt: string;
    signature: ReturnType<typeof signForPublish>;
  }): Promise<{ promoted: boolean; previous: number; trimmed: number[] }> {
    const { version, sealed, expected, meta, publishedAt, signature } = c;
    const event: ModelEvent = {
      type: 'published',
      pipeline: this.pipeline,
      version,
      digest: sealed.digest,
      publishedBy: meta.publishedBy,
      publishedAt,
    };
    const committed = (await this.io(() =>
      COMMIT.run(
        this.redis,
        [this.keys.version(version), this.keys.current, this.keys.history],
        [
          version,
          expected,
          this.historyLimit,
          this.keys.versionPrefix,
          this.keys.events,
          JSON.stringify(event),
          ...encodeVersion(
            sealed,
            { publishedBy: meta.publishedBy, reason: meta.reason, publishedAt },
            signature,
          ),
        ],
      ),
    )) as [string, number, number, string[]];

    if (committed[0] === 'CONFLICT') throw this.conflict(meta.expectedParent ?? null, Number(committed[1]));
    if (committed[0] === 'EXISTS') {
      throw new SmaeError(
        'PUBLISH_CONFLICT',
        `version ${version} of pipeline "${this.pipeline}" already exists`,
        {
          details: { version, pipeline: this.pipeline },
        },
      );
    }
    return {
      promoted: Number(committed[1]) === 1,
      previous: Number(committed[2]),
      trimmed: committed[3].map(Number),
    };
  }

  private logPublished(p: {
    version: number;
    promoted: boolean;
    previous: number;
    trimmed: number[];
    meta: PublishMeta;
    digest: string;
    signature: ReturnType<typeof signForPublish>;
  }): void {
    this.logger.info(
      {
        version: p.version,
        promoted: p.promoted,
        previous: p.previous,
        trimmed: p.trimmed,
        publishedBy: p.meta.publishedBy,
        digest: p.digest.slice(0, 12),
        keyId: p.signature?.keyId ?? null,
      },
      p.promoted
        ? 'model version published and made current'
        : 'model version published behind a newer current one',
    );
    if (p.trimmed.includes(p.version)) {
      this.logger.warn(
        { version: p.version },
        'the published version was immediately trimmed from history (history limit)',
      );
    }
  }

  /** The current version number (0 when nothing is published yet); no verification, one GET. */
  async currentVersion(): Promise<number> {
    const raw = await this.io(() => this.redis.get(this.keys.current));
    return raw === null ? 0 : Number(raw);
  }

  /** The current model, verified; null when nothing is published. Throws ModelError if it fails verification. */
  async current(): Promise<PublishedModel | null> {
    const reply = (await this.io(() =>
      READ_CURRENT.run(this.redis, [this.keys.current], [this.keys.versionPrefix], { binary: true }),
    )) as [Buffer, Buffer[]] | [];
    if (reply.length === 0) return null;
    const version = Number(reply[0].toString('utf8'));
    return this.decode(version, pairsToRecord(reply[1]));
  }

  /** One version, verified. MODEL_NOT_FOUND if absent (never published, or trimmed from history). */
  async get(version: number): Promise<PublishedModel> {
    if (!Number.isInteger(version) || version < 1) {
      throw new ConfigError('invalid model version', [
        { path: 'version', message: `must be an integer ≥ 1 (got ${String(version)})` },
      ]);
    }
    const hash = await this.io(() => this.redis.hgetallBuffer(this.keys.version(version)));
    return this.decode(version, hash);
  }

  /**
   * Summaries of the kept versions, newest first. With `verify` (default false) each version's weights
   * are read and its digest checked, so a tampered version shows `integrity: 'failed'`.
   */
  async list(opts: { verify?: boolean } = {}): Promise<VersionSummary[]> {
    const [members, currentRaw] = await this.io(() =>
      Promise.all([this.redis.zrevrange(this.keys.history, 0, -1), this.redis.get(this.keys.current)]),
    );
    const current = currentRaw === null ? 0 : Number(currentRaw);
    const versions = members.map(Number);
    const fieldNames = ['manifest', 'digest', 'publishedBy', 'reason', 'publishedAt', 'previous'] as const;
    const pipeline = this.redis.pipeline();
    for (const v of versions) {
      if (opts.verify) pipeline.hgetallBuffer(this.keys.version(v));
      else pipeline.hmget(this.keys.version(v), ...fieldNames);
    }
    const replies = versions.length === 0 ? [] : ((await this.io(() => pipeline.exec())) ?? []);
    const out: VersionSummary[] = [];
    versions.forEach((v, i) => {
      const [err, value] = replies[i] ?? [new Error('no reply'), null];
      if (err)
        throw new SmaeError('INFRA_UNAVAILABLE', `cannot read version ${v}: ${err.message}`, { cause: err });
      if (opts.verify) {
        const hash = value as Record<string, Buffer>;
        const fields = Object.fromEntries(
          fieldNames.map((k) => [k, hash[k]?.toString('utf8')] as const).filter(([, x]) => x !== undefined),
        );
        const summary = summarize(v, current, fields);
        if (summary.integrity !== 'failed') {
          try {
            this.decode(v, hash);
            summary.integrity = 'ok';
          } catch (e) {
            summary.integrity = 'failed';
            summary.problem = (e as Error).message;
          }
        }
        out.push(summary);
      } else {
        const arr = value as (string | null)[];
        const fields = Object.fromEntries(
          fieldNames.map((k, j) => [k, arr[j] ?? undefined] as const).filter(([, x]) => x !== undefined),
        );
        out.push(summarize(v, current, fields));
      }
    });
    return out;
  }

  /**
   * Publishes a NEW version whose content is version `to`'s (weights, preprocessing, threshold, training
   * statistics), with `parentVersion` set to the version it replaces, so history stays linear and the
   * rollback itself is auditable. Refuses a source that does not verify, and a concurrent publish
   * between reading and committing (PUBLISH_CONFLICT).
   */
  async rollback(to: number, reason = ''): Promise<PublishResult> {
    const source = await this.get(to);
    const current = await this.currentVersion();
    if (current === to) {
      throw new SmaeError(
        'INVALID_CONFIG',
        `version ${to} is already the current version of "${this.pipeline}"`,
        {
          field: 'version',
        },
      );
    }
    const manifest = { ...source.artifact.manifest, parentVersion: current === 0 ? null : current };
    const artifact = sealArtifact(manifest, source.artifact.weights);
    return this.publish(artifact, {
      publishedBy: 'rollback',
      reason: `rollback to version ${to} (replacing ${current})${reason ? `: ${reason}` : ''}`,
      expectedParent: current === 0 ? null : current,
    });
  }

  /**
   * Calls `onVersion` with each newer verified current version: on start, on every announcement, after
   * every reconnect of the subscriber, and every `pollMs` (default 5 s). Uses its own duplicate
   * connection for the subscription. Versions that fail verification are logged, counted and skipped.
   */
  watch(onVersion: (m: PublishedModel) => void | Promise<void>, opts: WatchOptions = {}): WatchHandle {
    const watcher = new RegistryWatcher(this, this.redis, onVersion, {
      pollMs: opts.pollMs ?? REGISTRY_DEFAULTS.pollMs,
      afterVersion: opts.afterVersion ?? 0,
      onRejected: opts.onRejected,
      logger: this.logger,
    });
    watcher.start();
    return watcher;
  }

  /**
   * A stored hash → a verified model: digest, version and pipeline (`decodeVersion`), then the signature
   * (UNTRUSTED_MODEL). Also reports who signed it.
   */
  private decode(version: number, hash: Record<string, Buffer>): PublishedModel {
    const model = decodeVersion(version, this.pipeline, hash);
    const keyId = hash['keyId']?.toString('utf8');
    verifyModelSignature(
      this.trust,
      {
        pipeline: this.pipeline,
        version,
        digest: model.artifact.digest,
        publishedBy: hash['publishedBy']?.toString('utf8') ?? '',
        reason: hash['reason']?.toString('utf8') ?? '',
        publishedAt: hash['publishedAt']?.toString('utf8') ?? '',
      },
      {
        ...(hash['signature'] !== undefined ? { signature: hash['signature'].toString('utf8') } : {}),
        ...(keyId !== undefined ? { keyId } : {}),
      },
    );
    return { ...model, signedBy: keyId ?? null };
  }

  private conflict(expected: number | null, actual: number): SmaeError {
    return new SmaeError(
      'PUBLISH_CONFLICT',
      `publish refused: expected the current version of "${this.pipeline}" to be ${expected ?? 'none'} but it is ` +
        `${actual === 0 ? 'none' : actual}; another publisher got there first — rebuild on the new current version and retry`,
      { details: { expected, actual, pipeline: this.pipeline } },
    );
  }

  /** Redis transport failures become retriable INFRA_UNAVAILABLE; server replies (script errors) stay as they are. */
  private async io<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SmaeError || (err as Error)?.name === 'ReplyError') throw err;
      throw new SmaeError('INFRA_UNAVAILABLE', `registry: Redis did not answer: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** Refuses an artifact that does not verify and metadata without a publisher. */
function checkPublishable(artifact: ModelArtifact, meta: PublishMeta): void {
  try {
    verifyArtifact(artifact);
  } catch (err) {
    throw new ModelError('INTEGRITY_CHECK_FAILED', `refusing to publish: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!meta.publishedBy) {
    throw new ConfigError('invalid publish metadata', [
      { path: 'publishedBy', message: 'must not be empty' },
    ]);
  }
}
