import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../shared/errors.js';
import { envName, flagName, loadScorerConfig } from '../../../../services/scorer/config.js';

const required = { SMAE_PIPELINE: 'payments', SMAE_RECORD_SCHEMA: 'tx.avsc' };

describe('scorer configuration', () => {
  test('defaults and names derived from the pipeline', () => {
    const c = loadScorerConfig(required);
    assert.equal(c.delivery, 'exactly-once');
    assert.equal(c.windowMaxLen, 10_000);
    assert.equal(c.windowSampleRate, 1);
    assert.equal(c.windowMaxPerSecond, 1000);
    assert.equal(c.emitScores, false);
    assert.deepEqual(c.topics, {
      input: 'payments.records',
      flags: 'payments.flags',
      deadLetters: 'payments.dlq',
      scores: 'payments.scores',
    });
    assert.equal(c.group, 'payments.scorer');
    assert.equal(c.names.transactionalIdPrefix, 'payments.scorer.tx');
  });

  test('flags win over the environment and are coerced', () => {
    const c = loadScorerConfig({ ...required, SMAE_DELIVERY: 'exactly-once', SMAE_TOP_K: '2' }, [
      '--delivery',
      'at-least-once',
      '--window-sample-rate',
      '0.25',
      '--emit-scores',
      'yes',
      '--input-topic',
      'raw-tx',
    ]);
    assert.equal(c.delivery, 'at-least-once');
    assert.equal(c.topK, 2);
    assert.equal(c.windowSampleRate, 0.25);
    assert.equal(c.emitScores, true);
    assert.equal(c.topics.input, 'raw-tx');
  });

  test('every problem is reported at once, naming the variable and the flag', () => {
    try {
      loadScorerConfig({ SMAE_TOP_K: 'many', SMAE_WINDOW_SAMPLE_RATE: '2', SMAE_DELIVERY: 'twice' });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const paths = err.issues.map((i) => i.path).sort();
      assert.deepEqual(paths, [
        'SMAE_DELIVERY / --delivery',
        'SMAE_PIPELINE / --pipeline',
        'SMAE_RECORD_SCHEMA / --record-schema',
        'SMAE_TOP_K / --top-k',
        'SMAE_WINDOW_SAMPLE_RATE / --window-sample-rate',
      ]);
      assert.ok(err.issues.every((i) => i.message.length > 0));
    }
  });

  test('unknown flags and contradictory settings are refused with a fix', () => {
    assert.throws(
      () => loadScorerConfig(required, ['--windwo-max-len', '5']),
      (err: unknown) => err instanceof ConfigError && /windwo-max-len.*--help/.test(err.issues[0]!.message),
    );
    assert.throws(
      () => loadScorerConfig({ ...required, SMAE_WIRE_FORMAT: 'raw', SMAE_SCHEMA_IDS_DIR: '/ids' }),
      (err: unknown) =>
        err instanceof ConfigError && /raw Avro carries no schema id/.test(err.issues[0]!.message),
    );
    assert.throws(
      () =>
        loadScorerConfig({
          ...required,
          SMAE_SESSION_TIMEOUT_MS: '6000',
          SMAE_HEARTBEAT_INTERVAL_MS: '3000',
        }),
      /invalid scorer configuration/,
    );
  });

  test('one transaction per member: exactly-once only, with an instance id fit for a transactional id', () => {
    const c = loadScorerConfig({ ...required, SMAE_TRANSACTION_SCOPE: 'member' }, [
      '--instance-id',
      'smae-scorer-7d9f8b-x2k4q',
    ]);
    assert.equal(c.transactionScope, 'member');
    assert.equal(c.instanceId, 'smae-scorer-7d9f8b-x2k4q');
    assert.equal(loadScorerConfig(required).transactionScope, 'partition');
    assert.throws(
      () =>
        loadScorerConfig({ ...required, SMAE_TRANSACTION_SCOPE: 'member', SMAE_DELIVERY: 'at-least-once' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /member applies to exactly-once delivery only/.test(err.issues[0]!.message),
    );
    assert.throws(
      () => loadScorerConfig({ ...required, SMAE_TRANSACTION_SCOPE: 'pod' }),
      (err: unknown) =>
        err instanceof ConfigError && /must be partition or member/.test(err.issues[0]!.message),
    );
    assert.throws(
      () => loadScorerConfig({ ...required, SMAE_INSTANCE_ID: 'has space' }),
      (err: unknown) => err instanceof ConfigError && /letters, digits/.test(err.issues[0]!.message),
    );
  });

  test('names of variables and flags', () => {
    assert.equal(envName('windowMaxLen'), 'SMAE_WINDOW_MAX_LEN');
    assert.equal(flagName('windowMaxLen'), 'window-max-len');
  });
});
