import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ModelSlot } from '../../../../services/scorer/model-slot.js';
import { FakeModel } from '../../scoring/fake-model.js';

describe('ModelSlot', () => {
  test('a swap applies to the next lease; the old model is disposed after its last batch', () => {
    const slot = new ModelSlot();
    const v1 = new FakeModel(1, ['a'], 1);
    const v2 = new FakeModel(2, ['a'], 1);
    slot.install(v1);
    const inFlight = slot.acquire();
    slot.install(v2);
    assert.equal(inFlight.model, v1, 'the batch in flight keeps its model');
    assert.equal(slot.acquire().model, v2, 'the next batch gets the new one');
    assert.equal(v1.disposed, false, 'not disposed while a batch holds it');
    inFlight.release();
    inFlight.release();
    assert.equal(v1.disposed, true);
    assert.equal(v2.disposed, false);
    assert.equal(slot.version, 2);
  });

  test('an unleased model is disposed at once when replaced; waiters get the first model', async () => {
    const slot = new ModelSlot();
    assert.throws(() => slot.acquire(), /no model/);
    const waiting = slot.waitForModel();
    const v1 = new FakeModel(1, ['a'], 1);
    slot.install(v1);
    assert.equal(await waiting, v1);
    slot.install(new FakeModel(2, ['a'], 1));
    assert.equal(v1.disposed, true);
    const aborter = new AbortController();
    const empty = new ModelSlot();
    const p = empty.waitForModel(aborter.signal);
    aborter.abort(new Error('stopped'));
    await assert.rejects(p, /stopped/);
  });
});
