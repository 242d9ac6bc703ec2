import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunReport, RunTrigger } from '../../../../services/trainer/app.js';
import { TrainingRuns } from '../../../../services/trainer/runs.js';

/** A run the test finishes by hand; `triggers` records every run started. */
function manualRuns() {
  const triggers: RunTrigger[] = [];
  let finish: ((r: RunReport) => void) | null = null;
  let fail: ((err: Error) => void) | null = null;
  const run = (trigger: RunTrigger): Promise<RunReport> => {
    triggers.push(trigger);
    return new Promise((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  };
  const report = (trigger: RunTrigger, outcome: RunReport['outcome']): RunReport => ({
    trigger,
    startedAt: '',
    finishedAt: '',
    outcome,
  });
  return {
    triggers,
    run,
    publish: (trigger: RunTrigger) => finish!(report(trigger, 'published')),
    fail: (message: string) => fail!(new Error(message)),
  };
}

describe('TrainingRuns', () => {
  test('one run at a time: runNow while a run lasts gives that run', async () => {
    const m = manualRuns();
    const runs = new TrainingRuns(m.run, { intervalMs: 0, retryMs: 0 }, () => undefined);
    const a = runs.runNow('manual');
    const b = runs.runNow('manual');
    assert.equal(a, b);
    assert.equal(m.triggers.length, 1);
    assert.equal(runs.running, true);
    m.publish('manual');
    assert.equal((await a).outcome, 'published');
    assert.equal(runs.running, false);
    assert.equal(runs.status().runs, 1);
    assert.equal(runs.status().lastSuccess?.outcome, 'published');
  });

  test('a failed run becomes a failed report and is retried after retryMs, capped by the interval', async () => {
    const m = manualRuns();
    const reports: RunReport[] = [];
    const runs = new TrainingRuns(m.run, { intervalMs: 60_000, retryMs: 20 }, (r) => reports.push(r));
    const first = runs.runNow('start');
    m.fail('redis down');
    const r = await first;
    assert.equal(r.outcome, 'failed');
    assert.match(r.error ?? '', /redis down/);
    assert.notEqual(runs.status().nextRunAt, null);
    await sleep(60);
    assert.deepEqual(m.triggers, ['start', 'retry']);
    assert.equal(reports.length, 1);
    m.publish('retry');
    await runs.stop(() => undefined);
    assert.equal(runs.status().nextRunAt, null, 'stop cancels the next scheduled run');
  });

  test('stop aborts the run in progress and waits for it; later runs report aborted', async () => {
    const m = manualRuns();
    const runs = new TrainingRuns(m.run, { intervalMs: 10, retryMs: 10 }, () => undefined);
    const running = runs.runNow('manual');
    let aborted = false;
    const stopped = runs.stop(() => {
      aborted = true;
      m.fail('aborted');
    });
    await stopped;
    assert.equal(aborted, true);
    assert.equal((await running).outcome, 'failed');
    assert.equal((await runs.runNow('manual')).outcome, 'aborted');
    await sleep(30);
    assert.equal(m.triggers.length, 1, 'no run scheduled after stop');
  });
});
