import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { bool, int, pipelineName } from '../../../shared/config/fields.js';
import {
  configKeys,
  defineServiceConfig,
  describeServiceConfig,
  loadServiceConfig,
  resolveServiceConfig,
  wantsHelp,
  type ServiceConfigSpec,
} from '../../../shared/config/service-config.js';
import { ConfigError } from '../../../shared/errors.js';

const schema = z.object({
  pipeline: pipelineName(),
  batchSize: int(1, 1000).default(32),
  dryRun: bool.default(false),
  tags: z.array(z.string()).default([]),
});

const spec: ServiceConfigSpec<typeof schema> = {
  service: 'widget',
  schema,
  keys: configKeys(schema),
  check: (s, keys) =>
    s.dryRun && s.batchSize > 100
      ? [{ path: keys.where('batchSize'), message: 'must be at most 100 in a dry run' }]
      : [],
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('loadServiceConfig', () => {
  test('reads the environment, trims values and applies defaults', () => {
    const c = loadServiceConfig(spec, { env: { SMAE_PIPELINE: ' pay ', SMAE_DRY_RUN: 'yes' } });
    assert.deepEqual(c, { pipeline: 'pay', batchSize: 32, dryRun: true, tags: [] });
  });

  test('a missing required value and a bad number are reported in one ConfigError', () => {
    const err = configError(() => loadServiceConfig(spec, { env: { SMAE_BATCH_SIZE: 'lots' } }));
    assert.equal(err.message, 'invalid widget configuration');
    assert.equal(err.code, 'INVALID_CONFIG');
    assert.deepEqual(err.issues, [
      {
        path: 'SMAE_PIPELINE / --pipeline',
        message: 'is required: the pipeline name (topics, groups and keys derive from it)',
      },
      { path: 'SMAE_BATCH_SIZE / --batch-size', message: 'must be a number' },
    ]);
  });

  test('flags override the environment; blank variables count as unset', () => {
    const c = loadServiceConfig(spec, {
      env: { SMAE_PIPELINE: 'from-env', SMAE_BATCH_SIZE: '5', SMAE_DRY_RUN: '   ' },
      argv: ['--pipeline', 'from-flag', '--batch-size=7'],
    });
    assert.equal(c.pipeline, 'from-flag');
    assert.equal(c.batchSize, 7);
    assert.equal(c.dryRun, false);
  });

  test('an unknown flag is an error that says to run --help', () => {
    const err = configError(() =>
      loadServiceConfig(spec, { env: { SMAE_PIPELINE: 'p' }, argv: ['--batch-szie', '5'] }),
    );
    assert.equal(err.message, 'invalid widget command line');
    assert.equal(err.issues.length, 1);
    assert.equal(err.issues[0]!.path, 'argv');
    assert.match(err.issues[0]!.message, /--batch-szie.*run with --help/);
    const positional = configError(() => loadServiceConfig(spec, { env: {}, argv: ['extra'] }));
    assert.match(positional.issues[0]!.message, /extra.*--help/);
  });

  test('parsed options win over the environment, except undefined and an empty list', () => {
    const env = { SMAE_PIPELINE: 'p', SMAE_BATCH_SIZE: '5' };
    const c = loadServiceConfig(spec, {
      env,
      options: { batchSize: undefined, dryRun: true, tags: [] },
    });
    assert.equal(c.batchSize, 5);
    assert.equal(c.dryRun, true);
    assert.equal(loadServiceConfig(spec, { env, options: { batchSize: 9 } }).batchSize, 9);
  });

  test('cross-field checks run once every setting is valid on its own', () => {
    const err = configError(() =>
      resolveServiceConfig(spec, { pipeline: 'p', batchSize: 500, dryRun: true }),
    );
    assert.deepEqual(err.issues, [
      { path: 'SMAE_BATCH_SIZE / --batch-size', message: 'must be at most 100 in a dry run' },
    ]);
    // A field error first: the check does not run on a half-valid object.
    const first = configError(() => resolveServiceConfig(spec, { batchSize: 500, dryRun: true }));
    assert.deepEqual(
      first.issues.map((i) => i.path),
      ['SMAE_PIPELINE / --pipeline'],
    );
  });
});

describe('defineServiceConfig', () => {
  test('binds the spec: load, resolve and describe behave as the functions', () => {
    const widget = defineServiceConfig(spec);
    assert.equal(widget.load({ env: { SMAE_PIPELINE: 'p' }, argv: ['--batch-size', '3'] }).batchSize, 3);
    assert.throws(() => widget.resolve({}), ConfigError);
    assert.equal(widget.describe(), describeServiceConfig(spec));
  });
});

describe('configKeys', () => {
  test('derived names, a prefix, an exception and the label order', () => {
    const keys = configKeys(schema, {
      envPrefix: 'SMAE_WIDGET_',
      env: { pipeline: 'SMAE_PIPELINE' },
      label: 'flag-first',
    });
    assert.deepEqual(keys.all, ['pipeline', 'batchSize', 'dryRun', 'tags']);
    assert.equal(keys.env('batchSize'), 'SMAE_WIDGET_BATCH_SIZE');
    assert.equal(keys.env('pipeline'), 'SMAE_PIPELINE');
    assert.equal(keys.flag('batchSize'), '--batch-size');
    assert.equal(keys.where('batchSize'), '--batch-size / SMAE_WIDGET_BATCH_SIZE');
    const c = loadServiceConfig(
      { service: 'widget', schema, keys },
      { env: { SMAE_PIPELINE: 'p', SMAE_WIDGET_BATCH_SIZE: '3', SMAE_BATCH_SIZE: '4' } },
    );
    assert.equal(c.batchSize, 3);
  });
});

describe('describeServiceConfig', () => {
  test('lists every flag with its variable and non-empty default', () => {
    assert.equal(
      describeServiceConfig(spec),
      [
        '  --pipeline / SMAE_PIPELINE',
        '  --batch-size / SMAE_BATCH_SIZE (default 32)',
        '  --dry-run / SMAE_DRY_RUN (default false)',
        '  --tags / SMAE_TAGS',
      ].join('\n'),
    );
  });

  test('help is asked for with --help or -h', () => {
    assert.equal(wantsHelp(['--pipeline', 'p', '--help']), true);
    assert.equal(wantsHelp(['-h']), true);
    assert.equal(wantsHelp(['--pipeline', 'help']), false);
  });
});
