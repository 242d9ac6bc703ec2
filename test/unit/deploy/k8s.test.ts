/**
 * The Kubernetes manifests (deploy/k8s/), offline: `kubectl kustomize` renders every overlay, every
 * rendered object validates against its schema (kubernetes-models for the built-in kinds,
 * @kubernetes-models/keda for KEDA's, a zod schema for Strimzi's KafkaTopic, which has no model package),
 * and the pipeline's own rules hold (deploy/k8s/rules.ts: KEDA's topic and group are the pipeline's,
 * replicas within the partitions, a grace period above the scorer's drain, secrets only by reference, …).
 * Planted mistakes in a copy of the tree (a schema violation, a rule violation) must be caught.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../tools/infra/kafka/broker.js';
import {
  checkPipelineRules,
  parseRendered,
  renderOverlay,
  validateObject,
} from '../../../deploy/k8s/rules.js';

const K8S = join(REPO_ROOT, 'deploy', 'k8s');
const overlays = readdirSync(join(K8S, 'overlays'));
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const skip = kubectl.error !== undefined || kubectl.status !== 0 ? 'kubectl is not installed' : false;

/** Every problem in one overlay's render: schema errors and rule violations. */
function problems(root: string, overlay: string): { count: number; kinds: string[]; errors: string[] } {
  const objects = parseRendered(renderOverlay(join(root, 'overlays', overlay)));
  const errors = objects.flatMap((o) => validateObject(o));
  errors.push(...checkPipelineRules(objects));
  return { count: objects.length, kinds: objects.map((o) => `${o.kind}/${o.metadata?.name}`), errors };
}

describe('deploy/k8s', { skip }, () => {
  test('there are dev and prod overlays', () => {
    assert.deepEqual([...overlays].sort(), ['dev', 'prod']);
  });

  for (const overlay of overlays) {
    test(`overlay ${overlay} renders and every object validates against its schema and the pipeline's rules`, () => {
      const { count, kinds, errors } = problems(K8S, overlay);
      assert.deepEqual(errors, []);
      for (const kind of ['Deployment/smae-scorer', 'Deployment/smae-adapter', 'Deployment/smae-alerts']) {
        assert.ok(kinds.includes(kind), `${kind} rendered`);
      }
      for (const kind of [
        'ScaledObject/smae-scorer',
        'PodDisruptionBudget/smae-scorer',
        'CronJob/smae-trainer',
      ]) {
        assert.ok(kinds.includes(kind), `${kind} rendered`);
      }
      assert.ok(
        kinds.some((k) => k.startsWith('Job/')),
        'a one-shot trainer Job',
      );
      assert.ok(count >= 10, `rendered ${count} objects`);
    });
  }

  test('the record schema ConfigMap carries the bundled example schema', () => {
    assert.equal(
      readFileSync(join(K8S, 'base', 'record.avsc'), 'utf8'),
      readFileSync(join(REPO_ROOT, 'shared', 'avro', 'schemas', 'transaction.avsc'), 'utf8'),
    );
  });

  describe('planted mistakes are caught', () => {
    let copy = '';
    before(() => {
      copy = mkdtempSync(join(tmpdir(), 'smae-k8s-'));
    });
    after(() => rmSync(copy, { recursive: true, force: true }));

    /** A fresh copy of deploy/k8s with one file edited. */
    function plant(file: string, edit: (text: string) => string): string {
      const root = mkdtempSync(join(copy, 'tree-'));
      cpSync(K8S, root, { recursive: true });
      const path = join(root, file);
      const before = readFileSync(path, 'utf8');
      const after = edit(before);
      assert.notEqual(after, before, 'the planted edit changed the file');
      writeFileSync(path, after);
      return root;
    }

    test('a container port that is not a number fails schema validation', () => {
      const root = plant('base/scorer.yaml', (t) =>
        t.replace('containerPort: 9464', "containerPort: 'metrics'"),
      );
      const { errors } = problems(root, 'dev');
      assert.ok(
        errors.some((e) => /Deployment\/smae-scorer.*containerPort must be integer/.test(e)),
        errors.join('\n'),
      );
    });

    test('a ScaledObject replica bound given as text fails the KEDA schema', () => {
      const root = plant('base/scorer-autoscaling.yaml', (t) =>
        t.replace('minReplicaCount: 1', "minReplicaCount: 'one'"),
      );
      const { errors } = problems(root, 'dev');
      assert.ok(
        errors.some((e) => /^ScaledObject\/smae-scorer: .*minReplicaCount must be integer/.test(e)),
        errors.join('\n'),
      );
    });

    test('a KafkaTopic with a partition count as text fails the Strimzi check', () => {
      const root = plant('components/strimzi-topics/topics.yaml', (t) =>
        t.replace('partitions: 12', "partitions: 'twelve'"),
      );
      const { errors } = problems(root, 'prod');
      assert.ok(
        errors.some((e) => e.startsWith('KafkaTopic/payments-records')),
        errors.join('\n'),
      );
    });

    test('more scorers than partitions, a grace period below the drain, a literal secret: each is refused', () => {
      const scaled = plant('overlays/prod/kustomization.yaml', (t) => t.replace('value: 12', 'value: 24'));
      assert.ok(problems(scaled, 'prod').errors.some((e) => /maxReplicaCount 24 .* 12 partitions/.test(e)));
      const grace = plant('base/scorer.yaml', (t) =>
        t.replace('terminationGracePeriodSeconds: 60', 'terminationGracePeriodSeconds: 30'),
      );
      assert.ok(problems(grace, 'dev').errors.some((e) => /terminationGracePeriodSeconds 30/.test(e)));
      const secret = plant('overlays/dev/kustomization.yaml', (t) =>
        t.replace('- SMAE_LOG_LEVEL=debug', '- SMAE_LOG_LEVEL=debug\n      - KAFKA_SASL_PASSWORD=hunter2'),
      );
      assert.ok(problems(secret, 'dev').errors.some((e) => /KAFKA_SASL_PASSWORD/.test(e)));
      const group = plant('base/scorer-autoscaling.yaml', (t) =>
        t.replace('consumerGroup: payments.scorer', 'consumerGroup: payments-scorer'),
      );
      assert.ok(problems(group, 'dev').errors.some((e) => /consumerGroup payments-scorer/.test(e)));
    });
  });
});
