/**
 * docker-compose.yml cannot be run here (no Docker engine), so its syntax and interpolation are checked
 * with `docker-compose config -q` where that binary exists, and the files it and the Dockerfile refer to
 * must exist in the repository.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_KAFKA_VERSION, REPO_ROOT } from '../../../tools/infra/kafka/broker.js';

const composeFile = join(REPO_ROOT, 'docker-compose.yml');
const dockerfile = join(REPO_ROOT, 'deploy', 'docker', 'Dockerfile');

test('docker-compose config -q accepts docker-compose.yml', (t) => {
  const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    t.skip('docker-compose is not installed (.ci/run installs Debian’s package when it can)');
    return;
  }
  const res = spawnSync('docker-compose', ['-f', composeFile, 'config', '-q'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, COMPOSE_PROJECT_NAME: 'smae-config-check' },
  });
  assert.equal(res.status, 0, `docker-compose config failed:\n${res.stderr}${res.stdout}`);
});

test('files named by docker-compose.yml exist', () => {
  const text = readFileSync(composeFile, 'utf8');
  assert.match(text, /dockerfile: deploy\/docker\/Dockerfile/);
  const referenced = new Set(
    text.match(/(?:dist\/services\/[\w/-]+\.js|bin\/smae\.js|dist\/shared\/avro\/schemas\/[\w.-]+\.avsc)/g),
  );
  assert.ok(
    referenced.size >= 4,
    `expected the service entry points and schema, found ${[...referenced].join(', ')}`,
  );
  // The image runs dist/ (npm run build): a compiled file's source is the .ts beside it in the tree.
  const source = (f: string): string => f.replace(/^dist\//, '').replace(/^(services\/.*)\.js$/, '$1.ts');
  const missing = [...referenced].filter((f) => !existsSync(join(REPO_ROOT, source(f))));
  assert.deepEqual(missing, [], 'every file the compose commands refer to is built from the repository');
});

test('the compose Kafka image is the version the local broker runs', () => {
  const text = readFileSync(composeFile, 'utf8');
  const image = /image: apache\/kafka:(\S+)/.exec(text)?.[1];
  assert.equal(image, DEFAULT_KAFKA_VERSION);
});

test('every path the Dockerfile copies exists', () => {
  const sources = readFileSync(dockerfile, 'utf8')
    .split('\n')
    .filter((line) => /^COPY (?!--from)/.test(line))
    .flatMap((line) => line.trim().split(/\s+/).slice(1, -1));
  assert.ok(sources.length > 0);
  const missing = sources.filter((src) => !existsSync(join(REPO_ROOT, src)));
  assert.deepEqual(missing, []);
});
