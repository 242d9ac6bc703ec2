import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  NUMERIC_FIELDS,
  SYNTHETIC_SCHEMA,
  phasePlan,
  resolveSyntheticOptions,
  syntheticEvents,
  syntheticSource,
  type LabelledEvent,
} from '../../../../lab/generator/index.js';

const small = { records: 6000, trainRecords: 1500, seed: 7 };

function collect(opts: Parameters<typeof syntheticEvents>[0]): LabelledEvent[] {
  return [...syntheticEvents(opts)];
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function correlation(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('syntheticEvents', () => {
  test('the same seed gives the same stream, another seed another one', () => {
    const a = collect(small);
    const b = collect(small);
    assert.deepEqual(a, b);
    const c = collect({ ...small, seed: 8 });
    assert.notDeepEqual(
      a.slice(0, 50).map((e) => e.record),
      c.slice(0, 50).map((e) => e.record),
    );
  });

  test('changing the anomaly share leaves the normal events untouched', () => {
    const none = collect({ ...small, anomalyShare: 0 });
    const some = collect({ ...small, anomalyShare: 0.2 });
    assert.equal(none.length, some.length);
    let compared = 0;
    for (let i = 0; i < none.length; i++) {
      if (some[i]!.label === 0) {
        assert.deepEqual(some[i]!.record, none[i]!.record);
        compared++;
      }
    }
    assert.ok(compared > 4000);
    assert.equal(none.filter((e) => e.label === 1).length, 0, 'a zero share injects nothing');
  });

  test('phases come in order with the planned lengths and the training part is clean', () => {
    const events = collect(small);
    assert.equal(events.length, small.records + small.trainRecords);
    const plan = phasePlan(resolveSyntheticOptions(small));
    for (const p of plan) {
      const slice = events.slice(p.start, p.end);
      assert.ok(
        slice.every((e) => e.phase === p.phase),
        `events ${p.start}..${p.end} are ${p.phase}`,
      );
    }
    assert.deepEqual(
      plan.map((p) => [p.phase, p.end - p.start]),
      [
        ['train', 1500],
        ['stable', 2000],
        ['abrupt', 2000],
        ['gradual', 2000],
      ],
    );
    assert.ok(events.filter((e) => e.phase === 'train').every((e) => e.label === 0 && e.variant === null));
    assert.deepEqual(
      events.map((e) => e.index),
      events.map((_, i) => i),
    );
  });

  test('the anomaly share is met in every streamed phase, with both variants, all labelled', () => {
    const events = collect({ ...small, records: 30_000, anomalyShare: 0.1 });
    for (const phase of ['stable', 'abrupt', 'gradual'] as const) {
      const inPhase = events.filter((e) => e.phase === phase);
      const share = inPhase.filter((e) => e.label === 1).length / inPhase.length;
      // 10,000 Bernoulli(0.1) draws: sd 0.003, so ±0.015 is five sd.
      assert.ok(Math.abs(share - 0.1) < 0.015, `${phase} share ${share}`);
    }
    const anomalies = events.filter((e) => e.label === 1);
    assert.ok(anomalies.every((e) => e.variant === 'A' || e.variant === 'B'));
    const aShare = anomalies.filter((e) => e.variant === 'A').length / anomalies.length;
    assert.ok(Math.abs(aShare - 0.5) < 0.05, `variant A share ${aShare}`);
    assert.ok(events.filter((e) => e.label === 0).every((e) => e.variant === null));
  });

  test('injected anomalies are far from normal values of the same entity and phase', () => {
    const events = collect({ ...small, anomalyShare: 0.1 });
    const normal = events.filter((e) => e.label === 0 && e.phase === 'stable');
    const maxOf = (f: string): number => Math.max(...normal.map((e) => e.record[f] as number));
    const injected = events.filter((e) => e.label === 1 && e.phase === 'stable');
    // Every injection multiplies at least one feature by ≥ 6; most land beyond every normal value.
    const beyond = injected.filter((e) => NUMERIC_FIELDS.some((f) => (e.record[f] as number) > maxOf(f)));
    assert.ok(
      beyond.length / injected.length > 0.5,
      `${beyond.length}/${injected.length} beyond the normal range`,
    );
  });

  test('numeric features are positive and correlated through the latent load', () => {
    const events = collect({ ...small, anomalyShare: 0 }).filter((e) => e.phase === 'train');
    for (const f of NUMERIC_FIELDS) {
      assert.ok(
        events.every((e) => (e.record[f] as number) > 0),
        `${f} > 0`,
      );
    }
    const col = (f: string): number[] => events.map((e) => Math.log(e.record[f] as number));
    assert.ok(correlation(col('requests'), col('bytes_out')) > 0.8);
    assert.ok(correlation(col('requests'), col('cpu_pct')) > 0.5);
    assert.ok(correlation(col('requests'), col('amount')) > 0.4);
  });

  test('a daily cycle: load is higher in the afternoon than at night', () => {
    const events = collect({ ...small, anomalyShare: 0 }).filter(
      (e) => e.label === 0 && e.phase !== 'abrupt',
    );
    const byHour = (lo: number, hi: number): number =>
      mean(
        events
          .filter((e) => {
            const h = new Date(e.eventTime).getUTCHours();
            return h >= lo && h < hi;
          })
          .map((e) => Math.log(e.record.requests as number)),
      );
    assert.ok(byHour(13, 17) - byHour(1, 5) > 0.5);
  });

  test('drift: abrupt moves latency and bytes at once, gradual inflates amounts over time; driftScale 0 does not', () => {
    // The same seed with and without drift: the same draws, so the ratio isolates the drift itself.
    const drifted = collect({ ...small, anomalyShare: 0 });
    const still = collect({ ...small, anomalyShare: 0, driftScale: 0 });
    const logRatio = (phase: string, f: string, from = 0, to = Infinity): number =>
      mean(
        drifted
          .map((e, i) => [e, still[i]!] as const)
          .filter(([e]) => e.phase === phase)
          .slice(from, to)
          .map(([e, s]) => Math.log((e.record[f] as number) / (s.record[f] as number))),
      );
    assert.ok(Math.abs(logRatio('stable', 'latency_ms')) < 1e-3, 'stable is not drifted');
    assert.ok(logRatio('abrupt', 'latency_ms') > 0.35, 'latency jumps');
    assert.ok(logRatio('abrupt', 'bytes_out') > 0.4, 'bytes jump');
    assert.ok(Math.abs(logRatio('abrupt', 'amount')) < 1e-3, 'amounts hold in the abrupt phase');
    assert.ok(logRatio('gradual', 'amount', 0, 100) < 0.05, 'the gradual phase starts near the abrupt state');
    assert.ok(logRatio('gradual', 'amount', -100) > 0.5, 'and ends with inflated amounts');
    assert.ok(
      logRatio('gradual', 'cpu_pct', -100) > logRatio('gradual', 'cpu_pct', 0, 100) + 0.1,
      'cpu climbs',
    );
    assert.deepEqual(
      still.map((e) => e.record.requests),
      drifted.map((e) => e.record.requests),
    );
  });

  test('keys are entity ids with a skewed popularity, and event time advances by the interval', () => {
    const events = collect({ ...small, entities: 50, eventIntervalMs: 1000 });
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
    assert.ok(counts.size <= 50 && counts.size > 40);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    assert.ok(sorted[0]! > 3 * sorted[sorted.length - 1]!);
    assert.ok(events.every((e) => e.record.entity_id === e.key));
    assert.equal(events[10]!.eventTime - events[9]!.eventTime, 1000);
    assert.equal(events[0]!.record.event_time, events[0]!.eventTime);
  });

  test('records fit the source schema: every schema field present with the right JS type', () => {
    const source = syntheticSource(small);
    assert.equal(source.schema, SYNTHETIC_SCHEMA);
    const [first] = collect(small);
    for (const f of SYNTHETIC_SCHEMA.fields) {
      const v = first!.record[f.name];
      if (f.type === 'string') assert.equal(typeof v, 'string', f.name);
      else assert.equal(typeof v, 'number', f.name);
    }
    assert.equal(Object.keys(first!.record).length, SYNTHETIC_SCHEMA.fields.length);
  });

  test('the source iterates the same events twice', async () => {
    const source = syntheticSource({ ...small, records: 300, trainRecords: 100 });
    const once: LabelledEvent[] = [];
    for await (const e of source.events()) once.push(e);
    const twice: LabelledEvent[] = [];
    for await (const e of source.events()) twice.push(e);
    assert.equal(once.length, 400);
    assert.deepEqual(once, twice);
  });

  test('bad options are refused with the option named', () => {
    assert.throws(() => resolveSyntheticOptions({ anomalyShare: 1.5 }), /anomalyShare/);
    assert.throws(() => resolveSyntheticOptions({ records: -1 }), /records/);
    assert.throws(
      () => resolveSyntheticOptions({ phaseShares: { stable: 0, abrupt: 0, gradual: 0 } }),
      /phaseShares/,
    );
  });
});
