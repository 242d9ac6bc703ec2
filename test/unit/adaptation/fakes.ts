/** In-memory stand-ins for the registry and the window, for the cycle's unit tests. */
import { SmaeError } from '../../../shared/errors.js';
import { sealArtifact, type ModelArtifact } from '../../../shared/model/artifact.js';
import type { CycleRegistry } from '../../../shared/adaptation/cycle.js';
import type { WindowEntry, WindowRead } from '../../../shared/adaptation/window.js';
import type { SimRow } from '../../../shared/adaptation/sim/drift-stream.js';
import type {
  PublishMeta,
  PublishResult,
  PublishedModel,
  VersionSummary,
} from '../../../shared/registry/types.js';

export class MemoryRegistry implements CycleRegistry {
  readonly versions: PublishedModel[] = [];
  publishes = 0;
  /** Called after a successful publish (a test can throw from it to simulate a crash). */
  afterPublish: (() => void) | null = null;

  async current(): Promise<PublishedModel | null> {
    return this.versions.at(-1) ?? null;
  }
  async get(version: number): Promise<PublishedModel> {
    const v = this.versions.find((m) => m.version === version);
    if (!v) throw new SmaeError('MODEL_NOT_FOUND', `no version ${version}`);
    return v;
  }
  async list(): Promise<VersionSummary[]> {
    return [...this.versions].reverse().map((m) => ({
      version: m.version,
      current: m === this.versions.at(-1),
      publishedBy: m.publishedBy,
      reason: m.reason,
      publishedAt: m.publishedAt,
      parentVersion: m.artifact.manifest.parentVersion,
      previous: m.previous,
      digest: m.artifact.digest,
      digestPrefix: m.artifact.digest.slice(0, 12),
      threshold: m.artifact.manifest.threshold.value,
      percentile: m.artifact.manifest.threshold.percentile ?? null,
      thresholdPolicy: m.artifact.manifest.threshold.policy?.kind ?? 'percentile',
      trainingRows: null,
      epochs: null,
      finalLoss: null,
      source: null,
      backend: null,
      adaptation: m.artifact.manifest.adaptation !== null,
      integrity: 'unchecked',
    }));
  }
  async publish(artifact: ModelArtifact, meta: PublishMeta): Promise<PublishResult> {
    const current = this.versions.at(-1)?.version ?? 0;
    if (meta.expectedParent !== undefined && (meta.expectedParent ?? 0) !== current) {
      throw new SmaeError(
        'PUBLISH_CONFLICT',
        `current is ${current}, expected ${String(meta.expectedParent)}`,
      );
    }
    const version = current + 1;
    const sealed = sealArtifact({ ...structuredClone(artifact.manifest), version }, artifact.weights);
    const m: PublishedModel = {
      version,
      artifact: sealed,
      publishedBy: meta.publishedBy,
      reason: meta.reason,
      publishedAt: new Date().toISOString(),
      previous: current,
    };
    this.versions.push(m);
    this.publishes++;
    this.afterPublish?.();
    return { ...m, promoted: true };
  }
}

/** A window source over simulated rows (given oldest first, read newest first like XREVRANGE). */
export function memoryWindow(rows: readonly SimRow[]): (count: number) => Promise<WindowRead> {
  const entries: WindowEntry[] = rows.map((r, i) => ({
    id: `${r.ts}-${i}`,
    record: r.record,
    score: 0,
    flagged: false,
    key: r.key,
    ts: r.ts,
    version: 1,
  }));
  return async (count) => ({ entries: entries.slice(-count).reverse(), malformed: 0 });
}
