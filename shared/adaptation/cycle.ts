/**
 * One adaptation cycle, end to end: ledger → lock → current model → anchor → window → compute →
 * publish → ledger.
 *
 * At most one version per cycle, whatever crashes or duplicates happen:
 * - the ledger (`adapter:cycle:<id>`) answers a cycle that already finished, before and after the lock;
 * - the publish's reason carries a `[cycle:<id>]` tag, so a cycle that crashed *after* publishing but
 *   *before* writing its ledger entry finds its version in the registry's history on retry and records
 *   it instead of publishing again;
 * - the publish is conditional on the parent it adapted (`expectedParent`): a cycle that lost its lock
 *   or raced another writer gets PUBLISH_CONFLICT (retriable) and writes nothing;
 * - the pipeline lock keeps two cycles from computing at once (PUBLISH_CONFLICT when busy, retried).
 */
import { SmaeError } from '../errors.js';
import type { ModelArtifact } from '../model/artifact.js';
import { silentLogger, type Logger } from '../log.js';
import type { PublishMeta, PublishResult, PublishedModel, VersionSummary } from '../registry/types.js';
import { anchorVersionOf, type AnchorState } from './anchor.js';
import type { AdaptationOptions } from './config.js';
import { computeAdaptation, type ComputeFn } from './compute.js';
import type { PipelineLock } from '../redis/lock.js';
import type { AdapterState } from './state.js';
import type { CycleOutcome, RefusedOutcome } from './types.js';
import type { WindowRead } from './window.js';

/** The registry operations a cycle needs (a `ModelRegistry` satisfies it). */
export interface CycleRegistry {
  current(): Promise<PublishedModel | null>;
  get(version: number): Promise<PublishedModel>;
  list(): Promise<VersionSummary[]>;
  publish(artifact: ModelArtifact, meta: PublishMeta): Promise<PublishResult>;
}

export interface CycleDeps {
  pipeline: string;
  registry: CycleRegistry;
  readWindow(count: number): Promise<WindowRead>;
  state: AdapterState;
  /** Where the tensor work runs; default in-process. The adapter service passes a worker thread. */
  compute?: ComputeFn;
  /** The pipeline's adaptation lock; none in single-process use (benchmark, CLI dry runs). */
  lock?: PipelineLock | null;
  logger?: Logger;
}

export interface CycleRunOptions {
  /** Idempotency key of the cycle (the BullMQ job id of a scheduled or manual run). */
  cycleId: string;
  options: AdaptationOptions;
  /** Compute and check, never publish nor record in the ledger. */
  dryRun?: boolean;
}

export type CycleResult = CycleOutcome & {
  /** True when the ledger (or the registry) already held this cycle and nothing was redone. */
  duplicate: boolean;
};

/** True for the error a cycle throws when another cycle of the pipeline holds the lock (wait, do not count an attempt). */
export function isLockBusy(err: unknown): boolean {
  return err instanceof SmaeError && err.details?.['lock'] === 'busy';
}

export function cycleTag(cycleId: string): string {
  return `[cycle:${cycleId}]`;
}

export async function runAdaptationCycle(deps: CycleDeps, run: CycleRunOptions): Promise<CycleResult> {
  const log = (deps.logger ?? silentLogger).child({
    component: 'adaptation',
    pipeline: deps.pipeline,
    cycleId: run.cycleId,
  });
  const prior = await deps.state.getOutcome(run.cycleId);
  if (prior) return { ...prior, duplicate: true };

  const handle = await acquireLock(deps, run.cycleId);
  try {
    const again = await deps.state.getOutcome(run.cycleId);
    if (again) return { ...again, duplicate: true };

    const current = await deps.registry.current();
    if (current === null) {
      return finish(deps, log, refused(deps.pipeline, run.cycleId, null, ['no-model']));
    }
    const recovered = await findPublished(deps.registry, run.cycleId);
    if (recovered !== null) return recordRecovered(deps, log, run.cycleId, recovered);

    const result = await compute(deps, log, run, current);
    const base = {
      cycleId: run.cycleId,
      pipeline: deps.pipeline,
      baseVersion: current.version,
      figures: result.figures,
      checks: result.checks,
      support: result.support,
      finishedAt: '',
    };
    if (run.dryRun) {
      const o: CycleOutcome = {
        ...base,
        status: 'dry-run',
        reasons: result.reasons,
        finishedAt: new Date().toISOString(),
      };
      log.info({ reasons: o.reasons, figures: o.figures }, 'dry run: checked, not published');
      return { ...o, duplicate: false };
    }
    if (result.candidate === null) {
      return finish(deps, log, { ...base, status: 'refused', reasons: result.reasons });
    }
    if (handle?.lost) {
      throw new SmaeError(
        'PUBLISH_CONFLICT',
        'adaptation lock lost before publishing; the cycle will be retried',
        {
          details: { pipeline: deps.pipeline, cycleId: run.cycleId },
        },
      );
    }
    const f = result.figures;
    const published = await deps.registry.publish(result.candidate, {
      publishedBy: 'adapter',
      reason:
        `adaptation ${cycleTag(run.cycleId)} policy ${run.options.policy}, ${f.supportRows} support rows, ` +
        `${f.steps} steps; threshold ${fmt(f.thresholdBefore)} → ${fmt(f.thresholdAfter)}; ` +
        `golden recall ${fmt(f.goldenRecall)}`,
      expectedParent: current.version,
    });
    return finish(deps, log, { ...base, status: 'published', version: published.version });
  } finally {
    await handle?.release();
  }
}

/** The pipeline's lock (null without one); PUBLISH_CONFLICT, marked busy, when another cycle holds it. */
async function acquireLock(deps: CycleDeps, cycleId: string) {
  if (!deps.lock) return null;
  const handle = await deps.lock.tryAcquire();
  if (handle === null) {
    throw new SmaeError(
      'PUBLISH_CONFLICT',
      `another adaptation of pipeline "${deps.pipeline}" is running; retry later`,
      {
        details: { pipeline: deps.pipeline, cycleId, lock: 'busy' },
      },
    );
  }
  return handle;
}

/** A cycle that published before an interruption: its version recorded in the ledger, not published again. */
async function recordRecovered(
  deps: CycleDeps,
  log: Logger,
  cycleId: string,
  recovered: VersionSummary,
): Promise<CycleResult> {
  log.warn(
    { version: recovered.version },
    'cycle had published before an interruption; recording it, not republishing',
  );
  const outcome: CycleOutcome = {
    status: 'published',
    version: recovered.version,
    cycleId,
    pipeline: deps.pipeline,
    baseVersion: recovered.parentVersion,
    figures: null,
    checks: [],
    support: null,
    finishedAt: new Date().toISOString(),
  };
  await deps.state.putOutcome(outcome);
  return { ...outcome, duplicate: true };
}

/** The tensor work on the current model, its anchor and the window; a newly built anchor is frozen. */
async function compute(deps: CycleDeps, log: Logger, run: CycleRunOptions, current: PublishedModel) {
  const { anchor, anchorArtifact, anchorVersion } = await loadAnchor(deps, current, log);
  const window = await deps.readWindow(run.options.windowSize);
  const result = await (deps.compute ?? computeAdaptation)({
    pipeline: deps.pipeline,
    cycleId: run.cycleId,
    base: current.artifact,
    anchor,
    anchorArtifact,
    anchorVersion,
    window: window.entries,
    malformed: window.malformed,
    options: run.options,
  });
  if (result.anchorBuilt && result.anchor) {
    const stored = await deps.state.putAnchor(result.anchor);
    log.info(
      { anchorVersion: stored.anchorVersion, goldenRows: stored.golden.rows, source: stored.goldenSource },
      'anchor state frozen',
    );
  }
  return result;
}

async function finish(
  deps: CycleDeps,
  log: Logger,
  outcome: CycleOutcome,
  message?: string,
): Promise<CycleResult> {
  const o = { ...outcome, finishedAt: new Date().toISOString() };
  await deps.state.putOutcome(o);
  const f = o.figures;
  const summary = {
    status: o.status,
    baseVersion: o.baseVersion,
    version: o.status === 'published' ? o.version : undefined,
    reasons: o.status === 'published' ? undefined : o.reasons,
    flaggedShare: f?.flaggedShare,
    supportRows: f?.supportRows,
    thresholdBefore: f?.thresholdBefore,
    thresholdAfter: f?.thresholdAfter,
    thresholdStep: f?.thresholdStep,
    thresholdDrift: f?.thresholdDrift,
    goldenRecall: f?.goldenRecall,
    weightStep: f?.weightStep,
    weightDrift: f?.weightDrift,
    computeMs: f?.computeMs,
  };
  if (o.status === 'published') log.info(summary, message ?? 'adapted model published');
  else log.warn(summary, message ?? 'adaptation refused');
  return { ...o, duplicate: false };
}

function refused(
  pipeline: string,
  cycleId: string,
  baseVersion: number | null,
  reasons: RefusedOutcome['reasons'],
): RefusedOutcome {
  return {
    status: 'refused',
    reasons,
    cycleId,
    pipeline,
    baseVersion,
    figures: null,
    checks: [],
    support: null,
    finishedAt: '',
  };
}

/** A version this cycle published (found by its reason tag), or null. */
async function findPublished(registry: CycleRegistry, cycleId: string): Promise<VersionSummary | null> {
  const tag = cycleTag(cycleId);
  const versions = await registry.list();
  return versions.find((v) => v.publishedBy === 'adapter' && v.reason.includes(tag)) ?? null;
}

/**
 * The anchor of the current model: stored state if any; otherwise the anchor's artifact (from the
 * registry, or the current model itself when it is its own anchor, or when the anchor was trimmed from
 * history, in which case the current model becomes the new anchor, with a warning).
 */
async function loadAnchor(
  deps: CycleDeps,
  current: PublishedModel,
  log: Logger,
): Promise<{ anchor: AnchorState | null; anchorArtifact: ModelArtifact | null; anchorVersion: number }> {
  const anchorVersion = anchorVersionOf(current.artifact) ?? current.version;
  const stored = await deps.state.getAnchor(anchorVersion);
  if (stored) return { anchor: stored, anchorArtifact: null, anchorVersion };
  if (anchorVersion === current.version)
    return { anchor: null, anchorArtifact: current.artifact, anchorVersion };
  try {
    return { anchor: null, anchorArtifact: (await deps.registry.get(anchorVersion)).artifact, anchorVersion };
  } catch (err) {
    log.warn(
      { anchorVersion, err: (err as Error).message },
      'anchor version unavailable and never frozen; the current version becomes the anchor',
    );
    const own = await deps.state.getAnchor(current.version);
    if (own) return { anchor: own, anchorArtifact: null, anchorVersion: current.version };
    return { anchor: null, anchorArtifact: current.artifact, anchorVersion: current.version };
  }
}

function fmt(v: number | null): string {
  return v === null ? '-' : Number(v.toPrecision(4)).toString();
}
