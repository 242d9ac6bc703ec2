import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { applyFlag } from '../../../../services/alerts/app.js';
import {
  MemoryAlertStore,
  alertKey,
  buildAlert,
  decide,
  flagId,
  formatAlertText,
} from '../../../../services/alerts/suppression.js';
import { flag } from './flags.js';

const W = 60_000;

describe('decide', () => {
  test('the first flag of a key opens an alert that suppresses the key for the window', () => {
    const d = decide(null, 'f1', 1000, W);
    assert.equal(d.outcome, 'opened');
    assert.deepEqual(d.next, { alertId: 'f1', openedAt: 1000, until: 61_000, count: 1, lastAt: 1000 });
  });

  test('flags inside the window are grouped, the first at or after its end opens a new alert', () => {
    let s = decide(null, 'f1', 1000, W).next;
    const inside = decide(s, 'f2', 60_999, W);
    assert.equal(inside.outcome, 'suppressed');
    assert.equal(inside.next.count, 2);
    assert.equal(inside.next.alertId, 'f1');
    assert.equal(inside.next.lastAt, 60_999);
    s = inside.next;
    const after = decide(s, 'f3', 61_000, W);
    assert.equal(after.outcome, 'opened');
    assert.equal(after.next.alertId, 'f3');
    assert.equal(after.next.count, 1);
  });

  test('a late flag (earlier than the opening one) joins the open alert without moving lastAt back', () => {
    const s = decide(null, 'f1', 10_000, W).next;
    const late = decide(s, 'f0', 5000, W);
    assert.equal(late.outcome, 'suppressed');
    assert.equal(late.next.lastAt, 10_000);
  });
});

describe('MemoryAlertStore + applyFlag', () => {
  test('keys are independent; duplicates never alert again', async () => {
    const store = new MemoryAlertStore();
    const opts = { windowMs: W, timeBase: 'event' as const };
    const outcomes = [
      await applyFlag(store, flag(1, 'a', 0), opts),
      await applyFlag(store, flag(2, 'b', 10), opts),
      await applyFlag(store, flag(3, 'a', 20), opts),
      await applyFlag(store, flag(1, 'a', 0), opts), // replayed after a restart
      await applyFlag(store, flag(4, 'a', W + 1), opts),
    ];
    assert.deepEqual(outcomes, ['opened', 'opened', 'suppressed', 'duplicate', 'opened']);
    assert.deepEqual(
      store.queued.map((a) => a.alertId),
      ['p.records:0:1', 'p.records:0:2', 'p.records:0:4'],
    );
    assert.equal((await store.state('a'))!.count, 1);
  });

  test('processing time ignores the event time', async () => {
    const store = new MemoryAlertStore();
    let now = 1_000_000;
    const opts = { windowMs: W, timeBase: 'processing' as const, now: () => now };
    assert.equal(await applyFlag(store, flag(1, 'a', 0), opts), 'opened');
    now += W - 1;
    assert.equal(await applyFlag(store, flag(2, 'a', 10 * W), opts), 'suppressed', 'event time far ahead');
    now += 1;
    assert.equal(await applyFlag(store, flag(3, 'a', 0), opts), 'opened');
  });
});

describe('alerts', () => {
  test('an alert names the key, the flag and when suppression ends', () => {
    const f = flag(7, 'acct-1', Date.UTC(2024, 0, 1, 12), { modelVersion: 4 });
    const a = buildAlert(f, f.eventTime, W);
    assert.equal(a.alertId, flagId(f));
    assert.equal(a.alertId, 'p.records:0:7');
    assert.equal(a.key, 'acct-1');
    assert.equal(a.openedAt, '2024-01-01T12:00:00.000Z');
    assert.equal(a.suppressUntil, '2024-01-01T12:01:00.000Z');
    assert.equal(a.flag.modelVersion, 4);
    const text = formatAlertText(a);
    assert.match(text, /key=acct-1 score=0\.5000 \(5\.0× threshold\) model=v4 at p\.records\/0@7/);
    assert.match(text, /amount=900 \(expected 30, 80%\)/);
  });

  test('flags without a key group per input partition', () => {
    assert.equal(alertKey(flag(1, null, 0)), '<no key>:p.records:0');
  });
});
