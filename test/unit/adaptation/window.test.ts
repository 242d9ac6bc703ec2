import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWindowEntry, windowKey } from '../../../shared/adaptation/window.js';
import { encodeWindowEntry } from '../../../shared/scoring/window.js';

describe('window entries', () => {
  test('parses the scorer fields', () => {
    const e = parseWindowEntry(
      '1700000000000-3',
      encodeWindowEntry({
        features: { a: 1, b: 'x' },
        score: 0.25,
        flagged: true,
        threshold: 0.2,
        key: 'acct-1',
        time: 1699999999000,
        modelVersion: 4,
        source: 't:0:1',
      }),
    );
    assert.deepEqual(e, {
      id: '1700000000000-3',
      record: { a: 1, b: 'x' },
      score: 0.25,
      flagged: true,
      key: 'acct-1',
      ts: 1699999999000,
      version: 4,
    });
  });

  test('defaults: no key, time from the id, unknown version', () => {
    const e = parseWindowEntry('1700000000000-0', ['features', '{"a":1}', 'score', '1', 'flagged', '0']);
    assert.equal(e?.key, '');
    assert.equal(e?.ts, 1700000000000);
    assert.equal(e?.version, null);
    assert.equal(e?.flagged, false);
  });

  test('malformed records are rejected, not thrown', () => {
    assert.equal(parseWindowEntry('1-0', ['score', '1']), null);
    assert.equal(parseWindowEntry('1-0', ['features', '{not json', 'score', '1']), null);
    assert.equal(parseWindowEntry('1-0', ['features', '[1,2]', 'score', '1']), null);
    assert.equal(parseWindowEntry('1-0', ['features', 'null', 'score', '1']), null);
    assert.equal(parseWindowEntry('1-0', ['features', '{"a":1}', 'score', 'x']), null);
  });

  test('the stream key is the pipeline prefix + window', () => {
    assert.equal(windowKey('payments'), 'smae:{payments}:window');
  });
});
