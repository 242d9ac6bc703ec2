/**
 * The demo's live view, fed once a second: the services' /metrics, the registry (each version's
 * threshold, read once), the adapter's ledger and what the collector matched so far. Every tick also
 * becomes a `LiveSample` of the run's results.
 */
import type { RedisAdapterState } from '../../shared/adaptation/state.js';
import type { CycleOutcome } from '../../shared/adaptation/types.js';
import type { ModelRegistry } from '../../shared/registry/index.js';
import { segmentMetrics, type Observations } from '../report/evaluate.js';
import type { LiveSample } from '../report/results.js';
import type { Collector } from './collector.js';
import type { LiveState, LiveView } from './live.js';
import type { Service } from './processes.js';
import { scrape, sumOf } from './prometheus.js';
import { percentile } from '../../shared/threshold/percentile.js';

/** The live latency figures cover the scores that arrived this long before a tick. */
const LATENCY_WINDOW_MS = 10_000;

/** p50 and p99 of produced → score visible over the scores that arrived since `since` (epoch ms). */
function recentLatency(obs: Observations, since: number): { p50: number; p99: number } | null {
  const recent: number[] = [];
  for (let i = 0; i < obs.count; i++) {
    const at = obs.scoredAt[i]!;
    if (at >= since) recent.push(at - obs.sentAt[i]!);
  }
  if (recent.length === 0) return null;
  return { p50: percentile(recent, 50), p99: percentile(recent, 99) };
}

export interface LiveTickerDeps {
  obs: Observations;
  collector: Collector;
  services: { scorer: Service; adapter: Service | null };
  adapterState: RedisAdapterState;
  registry: ModelRegistry;
  view: LiveView;
  /** Records the stream will send. */
  total: number;
  /** What the stream has sent so far, and the phase it is in. */
  progress(): { sent: number; phase: string };
}

export interface LiveTicker {
  tick(force?: boolean): Promise<void>;
  readonly samples: LiveSample[];
  /** Records scored, flagged and dead-lettered so far. */
  counts(): { scored: number; flags: number; dead: number };
}

export function createLiveTicker(d: LiveTickerDeps): LiveTicker {
  const streamStart = Date.now();
  const samples: LiveSample[] = [];
  /** Threshold of each model version the scorer reported, read once from the registry. */
  const thresholds = new Map<number, number | null>();
  let prev = { at: streamStart, sent: 0, scored: 0, flags: 0 };
  let ticking = false;

  const counts = (): { scored: number; flags: number; dead: number } => {
    const { obs } = d;
    let scored = 0;
    let flags = 0;
    let dead = 0;
    for (let i = 0; i < obs.count; i++) {
      if (!Number.isNaN(obs.scoredAt[i]!)) scored++;
      flags += obs.flagged[i]!;
      dead += obs.deadLettered[i]!;
    }
    return { scored, flags, dead };
  };

  const thresholdOf = (version: number | null): number | null => {
    if (version === null) return null;
    if (!thresholds.has(version)) {
      thresholds.set(version, null);
      d.registry.get(version).then(
        (m) => thresholds.set(version, m.artifact.manifest.threshold.value),
        () => thresholds.delete(version),
      );
    }
    return thresholds.get(version) ?? null;
  };

  const tick = async (force = false): Promise<void> => {
    if (ticking) return;
    ticking = true;
    try {
      d.collector.reconcile();
      const now = Date.now();
      const { scorer, adapter } = d.services;
      const [scorerMetrics, adapterMetrics, outcomes] = await Promise.all([
        scrape(`${scorer.opsUrl}/metrics`),
        adapter ? scrape(`${adapter.opsUrl}/metrics`) : Promise.resolve(null),
        d.adapterState.recentOutcomes(100).catch(() => [] as CycleOutcome[]),
      ]);
      const { sent, phase } = d.progress();
      const c = counts();
      const dt = Math.max(0.001, (now - prev.at) / 1000);
      const version = scorerMetrics ? sumOf(scorerMetrics, 'smae_scorer_model_version') : NaN;
      const lag = scorerMetrics ? sumOf(scorerMetrics, 'smae_scorer_consumer_lag') : NaN;
      const soFar = segmentMetrics(
        d.obs,
        Array.from({ length: d.obs.count }, (_, i) => i),
      );
      const refused = outcomes.filter((x) => x.status === 'refused');
      const lastRefused = refused[0];
      const modelVersion = Number.isFinite(version) && version > 0 ? version : null;
      const s: LiveState = {
        elapsedMs: now - streamStart,
        phase,
        sent,
        total: d.total,
        sentPerSecond: (sent - prev.sent) / dt,
        scored: c.scored,
        scoredPerSecond: (c.scored - prev.scored) / dt,
        flags: c.flags,
        flagsPerSecond: (c.flags - prev.flags) / dt,
        deadLetters: Math.max(
          d.collector.stats.deadLetters,
          scorerMetrics ? sumOf(scorerMetrics, 'smae_scorer_dead_letters_total') : 0,
        ),
        consumerLag: Number.isFinite(lag) && scorerMetrics ? lag : null,
        modelVersion,
        threshold: thresholdOf(modelVersion),
        adaptationsPublished: outcomes.filter((x) => x.status === 'published').length,
        adaptationsRefused: refused.length,
        lastRefusal: lastRefused && lastRefused.status === 'refused' ? lastRefused.reasons.join(', ') : null,
        f1Macro: soFar.records > 0 ? soFar.f1Macro : null,
        recall: soFar.anomalies > 0 ? soFar.recall : null,
        fpr: soFar.records > 0 ? soFar.fpr : null,
        latencyMs: recentLatency(d.obs, now - LATENCY_WINDOW_MS),
        scorerUp: scorerMetrics !== null,
        adapterUp: adapter ? adapterMetrics !== null : null,
      };
      d.view.update(s, force);
      samples.push({
        atMs: now - streamStart,
        sent,
        scored: c.scored,
        flagged: c.flags,
        deadLetters: c.dead,
        consumerLag: s.consumerLag,
        modelVersion: s.modelVersion,
      });
      prev = { at: now, sent, scored: c.scored, flags: c.flags };
    } finally {
      ticking = false;
    }
  };

  return { tick, samples, counts };
}
