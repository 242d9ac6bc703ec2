/**
 * The built-in event generator: a seeded stream of service events that a model can learn, drifts the way
 * production data does, and carries the report's injected anomalies with their labels.
 *
 * Each event belongs to an entity (its Kafka key). An entity has a fixed size factor and a region; an
 * event's latent load mixes that factor with a daily cycle (event time advances a fixed simulated step
 * per event) and noise. Every numeric feature is a positive function of the load, so the features are
 * correlated the way real telemetry is (more requests → more bytes, more CPU, higher latency) and the
 * autoencoder has a structure to learn; the region shifts latency and amount.
 *
 * Phases, after an anomaly-free training prefix drawn from the stable distribution:
 * - `stable`: the training distribution;
 * - `abrupt`: a deployment-like step change (latency and bytes per request jump at once);
 * - `gradual`: from there, amounts inflate and CPU climbs linearly to the end of the stream.
 * Anomalies (variants A and B of the report) are injected at a fixed share in every streamed phase.
 *
 * The same options always give the same events: normal values, entity picks and injections come from
 * separate seeded streams, so changing the anomaly share does not change the normal events.
 */
import { injectAnomaly, type AnomalyVariant } from './anomalies.js';
import type { AvroRecordSchema, EventSource, LabelledEvent, Phase, SourceFeature } from './events.js';
import { SeededRandom, deriveSeed } from '../../shared/random.js';

export const REGIONS = ['eu-west', 'us-east', 'ap-south', 'sa-east'] as const;
const REGION_SHARE = [0.4, 0.3, 0.2, 0.1];
const REGION_LATENCY_MS = [40, 55, 90, 120];
const REGION_AMOUNT_SCALE = [1, 1.3, 0.7, 0.9];

export const NUMERIC_FIELDS = ['amount', 'latency_ms', 'cpu_pct', 'bytes_out', 'requests'] as const;

export const SYNTHETIC_FEATURES: SourceFeature[] = [
  ...NUMERIC_FIELDS.map((name) => ({ kind: 'numeric' as const, name })),
  { kind: 'categorical', name: 'region' },
];

export const SYNTHETIC_SCHEMA: AvroRecordSchema = {
  type: 'record',
  name: 'ServiceEvent',
  namespace: 'smae.demo',
  doc: 'One request-level event of a service, as produced by the built-in demo generator.',
  fields: [
    { name: 'entity_id', type: 'string', doc: 'The calling entity (also the Kafka key).' },
    { name: 'event_time', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'region', type: 'string' },
    { name: 'amount', type: 'double', doc: 'Transaction amount.' },
    { name: 'latency_ms', type: 'double' },
    { name: 'cpu_pct', type: 'double' },
    { name: 'bytes_out', type: 'double' },
    { name: 'requests', type: 'double' },
  ],
};

/** How far the distribution moves; 1 is the default, 0 disables drift. */
export interface DriftProfile {
  /** Multiplier on latency from the abrupt phase on. */
  abruptLatency: number;
  /** Multiplier on bytes per request from the abrupt phase on. */
  abruptBytes: number;
  /** Multiplier on amounts reached at the end of the gradual phase (1 at its start). */
  gradualAmount: number;
  /** CPU percentage points added at the end of the gradual phase (0 at its start). */
  gradualCpu: number;
}

export const DEFAULT_DRIFT: DriftProfile = {
  abruptLatency: 1.5,
  abruptBytes: 1.6,
  gradualAmount: 1.8,
  gradualCpu: 12,
};

export interface SyntheticOptions {
  seed: number;
  /** Anomaly-free events at the start, from the stable distribution, for the first model. */
  trainRecords: number;
  /** Events after the training prefix. */
  records: number;
  /** Relative lengths of the streamed phases (normalised). */
  phaseShares: { stable: number; abrupt: number; gradual: number };
  /** Share of streamed events that carry an injected anomaly. */
  anomalyShare: number;
  /** Share of anomalies that are variant A (the rest are B). */
  variantAShare: number;
  /** Number of distinct entities (keys). */
  entities: number;
  /** Event time of the first event, epoch ms. */
  startTime: number;
  /** Simulated time between consecutive events, ms (sets how many days the stream spans). */
  eventIntervalMs: number;
  /** Scales every drift magnitude: 0 = no drift, 1 = `drift` as given. */
  driftScale: number;
  drift: DriftProfile;
}

export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  seed: 42,
  trainRecords: 6000,
  records: 24000,
  phaseShares: { stable: 1, abrupt: 1, gradual: 1 },
  anomalyShare: 0.05,
  variantAShare: 0.5,
  entities: 200,
  startTime: Date.UTC(2024, 0, 1),
  eventIntervalMs: 60_000,
  driftScale: 1,
  drift: DEFAULT_DRIFT,
};

/** Validated, complete options (throws RangeError naming the option). */
export function resolveSyntheticOptions(partial: Partial<SyntheticOptions> = {}): SyntheticOptions {
  const o: SyntheticOptions = {
    ...SYNTHETIC_DEFAULTS,
    ...partial,
    phaseShares: { ...SYNTHETIC_DEFAULTS.phaseShares, ...partial.phaseShares },
    drift: { ...SYNTHETIC_DEFAULTS.drift, ...partial.drift },
  };
  const check = (ok: boolean, name: string, what: string): void => {
    if (!ok) throw new RangeError(`generator option ${name} ${what}`);
  };
  check(Number.isInteger(o.seed), 'seed', 'must be an integer');
  check(Number.isInteger(o.trainRecords) && o.trainRecords >= 0, 'trainRecords', 'must be an integer ≥ 0');
  check(Number.isInteger(o.records) && o.records >= 0, 'records', 'must be an integer ≥ 0');
  check(o.anomalyShare >= 0 && o.anomalyShare <= 1, 'anomalyShare', 'must lie in [0, 1]');
  check(o.variantAShare >= 0 && o.variantAShare <= 1, 'variantAShare', 'must lie in [0, 1]');
  check(Number.isInteger(o.entities) && o.entities >= 1, 'entities', 'must be an integer ≥ 1');
  check(o.eventIntervalMs > 0, 'eventIntervalMs', 'must be > 0');
  check(o.driftScale >= 0, 'driftScale', 'must be ≥ 0');
  const s = o.phaseShares;
  check(s.stable >= 0 && s.abrupt >= 0 && s.gradual >= 0, 'phaseShares', 'must be ≥ 0');
  check(s.stable + s.abrupt + s.gradual > 0, 'phaseShares', 'must not all be 0');
  return o;
}

/** Where each phase starts and ends (index ranges over the whole stream, end exclusive). */
export interface PhasePlan {
  phase: Phase;
  start: number;
  end: number;
}

export function phasePlan(o: SyntheticOptions): PhasePlan[] {
  const s = o.phaseShares;
  const total = s.stable + s.abrupt + s.gradual;
  const stable = Math.round((o.records * s.stable) / total);
  const abrupt = Math.round((o.records * s.abrupt) / total);
  const t = o.trainRecords;
  return [
    { phase: 'train', start: 0, end: t },
    { phase: 'stable', start: t, end: t + stable },
    { phase: 'abrupt', start: t + stable, end: t + stable + abrupt },
    { phase: 'gradual', start: t + stable + abrupt, end: t + o.records },
  ];
}

interface Entity {
  id: string;
  size: number;
  region: number;
}

/** The synthetic stream as a synchronous iterable (the demo, the benchmarks and the tests share it). */
export function* syntheticEvents(partial: Partial<SyntheticOptions> = {}): Generator<LabelledEvent> {
  const o = resolveSyntheticOptions(partial);
  const setup = new SeededRandom(deriveSeed(o.seed, 'entities'));
  const values = new SeededRandom(deriveSeed(o.seed, 'values'));
  const picks = new SeededRandom(deriveSeed(o.seed, 'picks'));
  const inject = new SeededRandom(deriveSeed(o.seed, 'anomalies'));

  const width = String(o.entities - 1).length;
  const regionCum = cumulative(REGION_SHARE);
  const entities: Entity[] = [];
  const popularity = new Float64Array(o.entities);
  for (let e = 0; e < o.entities; e++) {
    entities.push({
      id: `ent-${String(e).padStart(width, '0')}`,
      size: setup.normal(),
      region: setup.pickCumulative(regionCum),
    });
    // Zipf-like popularity: a few busy keys and a long tail, as real keyed streams have.
    popularity[e] = (e > 0 ? popularity[e - 1]! : 0) + 1 / Math.pow(e + 1, 0.7);
  }

  const plan = phasePlan(o);
  const drift = o.drift;
  const k = o.driftScale;
  for (const p of plan) {
    for (let i = p.start; i < p.end; i++) {
      const entity = entities[picks.pickCumulative(popularity)]!;
      const eventTime = o.startTime + i * o.eventIntervalMs;
      // Daily cycle peaking mid-afternoon UTC.
      const hour = (eventTime / 3_600_000) % 24;
      const season = Math.sin((2 * Math.PI * (hour - 9)) / 24);
      const load = 0.55 * entity.size + 0.7 * season + values.normal(0, 0.35);

      let latencyMul = 1;
      let bytesMul = 1;
      let amountMul = 1;
      let cpuAdd = 0;
      if (p.phase === 'abrupt' || p.phase === 'gradual') {
        latencyMul = 1 + k * (drift.abruptLatency - 1);
        bytesMul = 1 + k * (drift.abruptBytes - 1);
      }
      if (p.phase === 'gradual') {
        const progress = p.end > p.start + 1 ? (i - p.start) / (p.end - p.start - 1) : 1;
        amountMul = 1 + k * progress * (drift.gradualAmount - 1);
        cpuAdd = k * progress * drift.gradualCpu;
      }

      const requests = Math.exp(2 + 0.6 * load + values.normal(0, 0.15));
      const bytesOut = 1500 * requests * Math.exp(values.normal(0, 0.15)) * bytesMul;
      const cpuPct = 100 / (1 + Math.exp(-(-0.8 + 0.9 * load + values.normal(0, 0.2)))) + cpuAdd;
      const latencyMs =
        REGION_LATENCY_MS[entity.region]! *
        Math.exp(0.25 * load + 0.5 * (cpuPct / 100) + values.normal(0, 0.1)) *
        latencyMul;
      const amount =
        REGION_AMOUNT_SCALE[entity.region]! * Math.exp(3.2 + 0.45 * load + values.normal(0, 0.2)) * amountMul;

      const record: Record<string, unknown> = {
        entity_id: entity.id,
        event_time: eventTime,
        region: REGIONS[entity.region]!,
        amount: round(amount, 2),
        latency_ms: round(latencyMs, 2),
        cpu_pct: round(cpuPct, 2),
        bytes_out: Math.round(bytesOut),
        requests: round(requests, 3),
      };

      let label: 0 | 1 = 0;
      let variant: AnomalyVariant | null = null;
      if (p.phase !== 'train') {
        // One decision draw per streamed event, whatever the share, keeps the injection stream aligned.
        const u = inject.next();
        if (u < o.anomalyShare) {
          variant = inject.next() < o.variantAShare ? 'A' : 'B';
          injectAnomaly(record, NUMERIC_FIELDS, variant, inject);
          label = 1;
        }
      }
      yield { index: i, key: entity.id, record, eventTime, label, phase: p.phase, variant };
    }
  }
}

/** The built-in generator as an event source (the demo's default). */
export function syntheticSource(partial: Partial<SyntheticOptions> = {}): EventSource {
  const o = resolveSyntheticOptions(partial);
  return {
    description: `generator(seed=${o.seed}, anomalies=${o.anomalyShare}, drift=${o.driftScale})`,
    schema: SYNTHETIC_SCHEMA,
    features: SYNTHETIC_FEATURES,
    trainRecords: o.trainRecords,
    streamRecords: o.records,
    events: () => toAsync(syntheticEvents(o)),
  };
}

export async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}

function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => {
    sum += w;
    out[i] = sum;
  });
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
