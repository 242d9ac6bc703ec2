import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeError } from '../../../shared/errors.js';
import { missingTopicsError } from '../../../shared/kafka/preflight.js';
import { exitCodeFor, EXIT_CODES } from '../../../shared/ops/lifecycle.js';

describe('missingTopicsError', () => {
  test('names the topic and both fixes; a configuration error', () => {
    const err = missingTopicsError(['p.records'], {
      ensureSetting: 'SMAE_ENSURE_TOPICS=true',
      who: 'the scorer',
    });
    assert.equal(
      describeError(err),
      'INVALID_CONFIG: the scorer cannot start: topic "p.records" does not exist. Create it (kafka-topics.sh ' +
        "--bootstrap-server … --create --topic p.records --partitions 6), or set SMAE_ENSURE_TOPICS=true so the pipeline's topics are created at start",
    );
    assert.equal(exitCodeFor(err), EXIT_CODES.config);
  });

  test('several topics in one sentence', () => {
    const err = missingTopicsError(['a', 'b'], { ensureSetting: 'X=1', partitions: 3 });
    assert.match(
      err.message,
      /^the service cannot start: topics "a", "b" do not exist\. Create them \(.*--topic <name> --partitions 3\)/,
    );
  });
});
