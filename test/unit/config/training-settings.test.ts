import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { trainingOptions, type TrainingSettings } from '../../../shared/training/index.js';
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
    });
    for (const k of ['categorical', 'learningRate', 'seed']) assert.ok(!(k in o), k);
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
});
