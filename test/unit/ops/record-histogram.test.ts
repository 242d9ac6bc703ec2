import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from 'prom-client';
import { createMetricsRegistry } from '../../../shared/ops/index.js';
import { RecordHistogram } from '../../../shared/ops/record-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
// Below, on and between the bounds, zero, negative, past the last bound.
const VALUES = [0, -3, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.5, 1, 1, 7.25, 10, 10.5, 1e6];

function registries() {
  const labels = { service: 'scorer', pipeline: 'p' };
  return {
    ours: createMetricsRegistry({ ...labels, defaultMetrics: false }),
    theirs: createMetricsRegistry({ ...labels, defaultMetrics: false }),
  };
}

test('RecordHistogram: a registry renders it exactly as prom-client renders its own Histogram', async () => {
  const { ours, theirs } = registries();
  const opts = { name: 'smae_test_lag_seconds', help: 'Lag of a record', buckets: BUCKETS };
  const fast = new RecordHistogram({ ...opts, registers: [ours] });
  const reference = new Histogram({ ...opts, registers: [theirs] });
  assert.equal(await ours.metrics(), await theirs.metrics(), 'empty');
  for (const v of VALUES) {
    fast.observe(v);
    reference.observe(v);
  }
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  // Cumulative counts: 0 and -3 and 0.001 in the first bucket, everything by +Inf, the sum of all.
  assert.match(text, /smae_test_lag_seconds_bucket\{le="0\.001",service="scorer",pipeline="p"\} 3\n/);
  assert.match(text, /smae_test_lag_seconds_bucket\{le="\+Inf",service="scorer",pipeline="p"\} 14\n/);
  assert.match(text, /smae_test_lag_seconds_count\{service="scorer",pipeline="p"\} 14\n/);
  // The JSON form too, but for prom-client's exemplar slot (null: exemplars are off).
  const withoutExemplars = (json: unknown) =>
    JSON.parse(JSON.stringify(json, (k, v) => (k === 'exemplar' ? undefined : v)));
  assert.deepEqual(await ours.getMetricsAsJSON(), withoutExemplars(await theirs.getMetricsAsJSON()));
});

test('RecordHistogram: reset empties it; non-finite values are not counted', async () => {
  const { ours } = registries();
  const h = new RecordHistogram({
    name: 'smae_test_score',
    help: 'Score',
    buckets: BUCKETS,
    registers: [ours],
  });
  h.observe(0.5);
  h.observe(Number.NaN);
  h.observe(Number.POSITIVE_INFINITY);
  assert.match(await ours.metrics(), /smae_test_score_count\{service="scorer",pipeline="p"\} 1\n/);
  ours.resetMetrics();
  const text = await ours.metrics();
  assert.match(text, /smae_test_score_count\{service="scorer",pipeline="p"\} 0\n/);
  assert.match(text, /smae_test_score_sum\{service="scorer",pipeline="p"\} 0\n/);
});

test('RecordHistogram: refuses buckets that do not ascend, and a name already registered', () => {
  const { ours } = registries();
  assert.throws(
    () => new RecordHistogram({ name: 'smae_a', help: 'a', buckets: [1, 1], registers: [ours] }),
    /buckets must ascend/,
  );
  new Histogram({ name: 'smae_b', help: 'b', registers: [ours] });
  assert.throws(
    () => new RecordHistogram({ name: 'smae_b', help: 'b', buckets: [1], registers: [ours] }),
    /already been registered/,
  );
});
