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

  test("no scale leaves the scaler to the profile (ProfileSettings.scale), in the trainer's settings too", () => {
    const { scale: _scale, ...unscaled } = base;
    assert.ok(!('scaler' in trainingOptions(unscaled)));
    const c = resolveTrainerConfig({ pipeline: 'p', data: 'x.csv' });
    assert.ok(!('scaler' in c.service.training));
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

describe('a feature spec file (features.json) in the training settings', () => {
  test('its columns, in order, and the spec itself go to the trainer', () => {
    const spec = {
      features: [
        { kind: 'categorical' as const, name: 'zone' },
        { kind: 'numeric' as const, name: 'load' },
      ],
      scaler: 'standard' as const,
      impute: 'mean' as const,
    };
    const o = trainingOptions({ ...base, featureSpec: spec });
    assert.deepEqual(o.columns, ['zone', 'load']);
    assert.deepEqual(o.spec, spec);
  });

  test('the trainer service reads SMAE_FEATURES once at start; a bad file is a configuration error', async (t) => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'smae-features-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'features.json');
    await writeFile(file, JSON.stringify({ features: [{ kind: 'numeric', name: 'x' }], impute: 'zero' }));
    const { service } = resolveTrainerConfig({ pipeline: 'p', data: 'x.csv', features: file });
    assert.deepEqual(service.training.columns, ['x']);
    assert.equal(service.training.spec?.impute, 'zero');
    await writeFile(file, JSON.stringify({ features: [] }));
    assert.throws(
      () => resolveTrainerConfig({ pipeline: 'p', data: 'x.csv', features: file }),
      /not a valid feature spec/,
    );
  });
});

describe('training rows limited to a feature spec’s columns', () => {
  test('exactly the named columns, in order; a column the data lacks is named', async (t) => {
    const { rowsFromCsv, rowsFromRecords } = await import('../../../shared/training/index.js');
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'smae-rows-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const csv = join(dir, 'd.csv');
    await writeFile(csv, 'id,a,b,c\n1,2,3,x\n2,4,5,y\n');
    const data = await rowsFromCsv(csv, { columns: ['c', 'a'] });
    assert.deepEqual(data.columns, ['c', 'a']);
    assert.deepEqual(data.rows[1], { c: 'y', a: 4 });
    await assert.rejects(
      rowsFromCsv(csv, { columns: ['a', 'zz'] }),
      /no column "zz" named by the feature spec/,
    );
    const fromRecords = rowsFromRecords([{ partition: 0, offset: 0, value: { a: 1, b: 2 } }], {
      source: 'kafka:t',
      columns: ['b'],
    });
    assert.deepEqual(fromRecords.rows, [{ b: 2 }]);
  });
});
