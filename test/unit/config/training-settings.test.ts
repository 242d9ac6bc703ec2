import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { trainingOptions, type TrainingSettings } from '../../../shared/training/index.js';
import { ConfigError } from '../../../shared/errors.js';
import { resolveTrainerConfig } from '../../../services/trainer/config.js';

const base: TrainingSettings = {
  labelColumn: 'label',
  exclude: ['id'],
  categorical: [],
  scale: 'minmax',
  impute: 'error',
  epochs: 30,
  batchSize: 32,
  percentile: 95,
  backend: 'auto',
};

describe('training settings → trainer options', () => {
  test('settings are renamed (scale → scaler); unset optional ones stay absent, not undefined', () => {
    const o = trainingOptions(base);
    assert.deepEqual(o, {
      labelColumn: 'label',
      exclude: ['id'],
      scaler: 'minmax',
      impute: 'error',
      epochs: 30,
      batchSize: 32,
      percentile: 95,
      backend: 'auto',
      profile: 'default',
    });
    for (const k of ['categorical', 'learningRate', 'seed', 'threshold']) assert.ok(!(k in o), k);
  });

  test('given optional settings are passed on', () => {
    const o = trainingOptions({ ...base, categorical: ['merchant'], learningRate: 0.01, seed: 0 });
    assert.deepEqual(o.categorical, ['merchant']);
    assert.equal(o.learningRate, 0.01);
    assert.equal(o.seed, 0);
  });

  test('the trainer service maps its settings through it', () => {
    const c = resolveTrainerConfig({
      pipeline: 'p',
      data: 'x.csv',
      exclude: 'id, ts',
      categorical: 'merchant',
      scale: 'standard',
      seed: '7',
    });
    assert.deepEqual(c.service.training, trainingOptions(c.settings));
    assert.equal(c.service.training.scaler, 'standard');
    assert.deepEqual(c.service.training.exclude, ['id', 'ts']);
  });

  test('--threshold-policy / --target-fpr choose a policy on held-out rows; either alone takes a default', () => {
    assert.deepEqual(trainingOptions({ ...base, targetFpr: 0.01 }).threshold, {
      kind: 'conformal',
      params: { alpha: 0.01 },
    });
    assert.deepEqual(trainingOptions({ ...base, thresholdPolicy: 'spot' }).threshold, {
      kind: 'spot',
      params: { q: 0.01 },
    });
    const c = resolveTrainerConfig({
      pipeline: 'p',
      data: 'x.csv',
      thresholdPolicy: 'percentile',
      targetFpr: '0.05',
    });
    assert.deepEqual(c.service.training.threshold, { kind: 'percentile', params: { percentile: 95 } });
    assert.throws(
      () => resolveTrainerConfig({ pipeline: 'p', data: 'x.csv', targetFpr: '0.7' }),
      (err: unknown) => err instanceof ConfigError && err.issues.some((i) => /TARGET_FPR/.test(i.path)),
    );
  });
});
