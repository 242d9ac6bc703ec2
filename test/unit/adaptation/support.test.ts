import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  selectDefaultSupport,
  selectReportSupport,
  type SupportCandidate,
} from '../../../shared/adaptation/support.js';

const THRESHOLD = 1;

function rows(n: number, f: (i: number) => Partial<SupportCandidate> = () => ({})): SupportCandidate[] {
  return Array.from({ length: n }, (_, i) => ({ score: 0.5, key: '', ...f(i) }));
}

describe('report policy', () => {
  test('draws supportSize rows, reproducibly for a seed, anomalies included', () => {
    const window = rows(100, (i) => ({ score: i % 5 === 0 ? 10 : 0.5 }));
    const a = selectReportSupport(window, THRESHOLD, { supportSize: 10 }, 42);
    const b = selectReportSupport(window, THRESHOLD, { supportSize: 10 }, 42);
    const c = selectReportSupport(window, THRESHOLD, { supportSize: 10 }, 43);
    assert.equal(a.indices.length, 10);
    assert.deepEqual(a.indices, b.indices);
    assert.notDeepEqual(a.indices, c.indices);
    assert.equal(new Set(a.indices).size, 10);
    // Over many seeds, flagged rows do get in: the report's policy does not filter.
    let flagged = 0;
    for (let s = 0; s < 50; s++)
      flagged += selectReportSupport(window, THRESHOLD, { supportSize: 10 }, s).flaggedInSupport;
    assert.ok(flagged > 0);
  });

  test('skips rows the model could not prepare and copes with a small window', () => {
    const window = rows(6, (i) => ({ score: i < 3 ? Number.NaN : 0.2 }));
    const s = selectReportSupport(window, THRESHOLD, { supportSize: 10 }, 1);
    assert.deepEqual([...s.indices].sort(), [3, 4, 5]);
    assert.equal(s.eligible, 3);
  });
});

describe('default policy', () => {
  const base = { supportSize: 10, margin: 0.9, maxKeyShare: 1, sampling: 'recent' as const };

  test('leaves out flagged rows and rows above margin × threshold', () => {
    const window = rows(30, (i) => ({ score: i % 3 === 0 ? 5 : i % 3 === 1 ? 0.95 : 0.3 }));
    const s = selectDefaultSupport(window, THRESHOLD, base, 1);
    assert.equal(s.indices.length, 10);
    for (const i of s.indices) assert.ok(window[i]!.score <= 0.9);
    assert.equal(s.flaggedInSupport, 0);
    assert.equal(s.excludedByScore, 20);
  });

  test('recent sampling takes the newest clean rows (the window is newest first)', () => {
    const window = rows(50);
    const s = selectDefaultSupport(window, THRESHOLD, base, 1);
    assert.deepEqual(s.indices, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('random sampling is seeded', () => {
    const window = rows(50);
    const o = { ...base, sampling: 'random' as const };
    const a = selectDefaultSupport(window, THRESHOLD, o, 7);
    assert.deepEqual(a.indices, selectDefaultSupport(window, THRESHOLD, o, 7).indices);
    assert.notDeepEqual(a.indices, selectDefaultSupport(window, THRESHOLD, o, 8).indices);
  });

  test('caps any single key at maxKeyShare of the support set', () => {
    // 40 rows from one noisy key first (newest), then 20 rows spread over 20 keys.
    const window = rows(60, (i) => ({ key: i < 40 ? 'loud' : `k${i}` }));
    const s = selectDefaultSupport(window, THRESHOLD, { ...base, supportSize: 20, maxKeyShare: 0.1 }, 1);
    assert.equal(s.indices.length, 20);
    const loud = s.indices.filter((i) => window[i]!.key === 'loud').length;
    assert.equal(loud, 2);
    assert.ok(s.maxKeyShare <= 0.1);
    assert.ok(s.excludedByKeyCap > 0);
  });

  test('the cap holds when the selection ends up smaller than asked', () => {
    // Only one key: a cap of 25 % cannot be met by more than one row per 4, so the set shrinks to 1.
    const window = rows(40, () => ({ key: 'only' }));
    const s = selectDefaultSupport(window, THRESHOLD, { ...base, supportSize: 20, maxKeyShare: 0.25 }, 1);
    assert.equal(s.indices.length, 1);
  });

  test('rows without a key are not capped', () => {
    const window = rows(30);
    const s = selectDefaultSupport(window, THRESHOLD, { ...base, supportSize: 20, maxKeyShare: 0.05 }, 1);
    assert.equal(s.indices.length, 20);
  });

  test('an all-flagged window gives an empty support set', () => {
    const s = selectDefaultSupport(
      rows(30, () => ({ score: 3 })),
      THRESHOLD,
      base,
      1,
    );
    assert.equal(s.indices.length, 0);
    assert.equal(s.excludedByScore, 30);
  });
});
