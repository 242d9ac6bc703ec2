/**
 * Offline checks of the rendered Kubernetes manifests (used by test/unit/deploy/k8s.test.ts):
 *
 * - `renderOverlay`: `kubectl kustomize <dir>` (kustomize built into kubectl; no cluster needed);
 * - `validateObject`: each object against its schema: kubernetes-models for the built-in kinds,
 *   @kubernetes-models/keda for ScaledObject/TriggerAuthentication, a zod schema for Strimzi's KafkaTopic
 *   (no model package exists for it); an object of a kind without a schema is itself an error;
 * - `checkPipelineRules`: what the schemas cannot know: KEDA scales the pipeline's own group on its input
 *   topic, with 1 ≤ minReplicaCount ≤ maxReplicaCount ≤ the input topic's partitions; the scorer's grace
 *   period exceeds its drain; every pod runs non-root with a read-only root filesystem; credentials only
 *   by reference to Secrets; every `node dist/…` command names an entry point that exists in the sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { pipelineNames } from '../../shared/pipeline.js';
import { REPO_ROOT } from '../../tools/infra/kafka/broker.js';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [k: string]: unknown;
}

/** The scorer allows this long past SMAE_SHUTDOWN_TIMEOUT_MS for closing clients (services/scorer/main.ts). */
const SCORER_CLOSE_GRACE_S = 10;
const DEFAULT_SCORER_SHUTDOWN_MS = 30_000;
const DEFAULT_TOPIC_PARTITIONS = 6;

export function renderOverlay(dir: string): string {
  const res = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error !== undefined) throw new Error(`cannot run kubectl: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${res.stderr}`);
  return res.stdout;
}

export function parseRendered(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Strimzi's KafkaTopic (kafka.strimzi.io/v1beta2): the fields this project sets, strictly. */
const kafkaTopicSchema = z
  .object({
    apiVersion: z.literal('kafka.strimzi.io/v1beta2'),
    kind: z.literal('KafkaTopic'),
    metadata: z.object({
      name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 name'),
      namespace: z.string().optional(),
      labels: z.object({ 'strimzi.io/cluster': z.string().min(1) }).catchall(z.string()),
    }),
    spec: z
      .object({
        topicName: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/),
        partitions: z.number().int().min(1),
        replicas: z.number().int().min(1).max(32767),
        config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      })
      .strict(),
  })
  .strict();

type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace as unknown as Model,
  'v1/ConfigMap': ConfigMap as unknown as Model,
  'v1/Secret': Secret as unknown as Model,
  'v1/Service': Service as unknown as Model,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as unknown as Model,
  'apps/v1/Deployment': Deployment as unknown as Model,
  'batch/v1/CronJob': CronJob as unknown as Model,
  'batch/v1/Job': Job as unknown as Model,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as unknown as Model,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject as unknown as Model,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication as unknown as Model,
};

function id(o: K8sObject): string {
  return `${o.kind}/${o.metadata?.name ?? '(unnamed)'}`;
}

/** Schema errors of one object, each prefixed with `Kind/name:`; empty when it validates. */
export function validateObject(o: K8sObject): string[] {
  const key = `${o.apiVersion}/${o.kind}`;
  if (key === 'kafka.strimzi.io/v1beta2/KafkaTopic') {
    const res = kafkaTopicSchema.safeParse(o);
    return res.success ? [] : res.error.issues.map((i) => `${id(o)}: ${i.path.join('.')}: ${i.message}`);
  }
  const model = MODELS[key];
  if (model === undefined) return [`${id(o)}: no schema known for ${key}`];
  try {
    new model(o as never).validate();
    return [];
  } catch (err) {
    return [`${id(o)}: ${(err as Error).message}`];
  }
}

interface Container {
  name: string;
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean };
  terminationGracePeriodSeconds?: number;
}

function podSpec(o: K8sObject): PodSpec | undefined {
  const spec = o.spec as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (o.kind === 'Deployment' || o.kind === 'Job') return spec?.template?.spec as PodSpec;
  if (o.kind === 'CronJob') return spec?.jobTemplate?.spec?.template?.spec as PodSpec;
  return undefined;
}

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|CREDENTIAL|REDIS_URL|WEBHOOK_URL/;

/** Violations of the pipeline's deployment rules across one overlay's objects. */
export function checkPipelineRules(objects: readonly K8sObject[]): string[] {
  const errors: string[] = [];
  const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name?.startsWith('smae-config'));
  const settings = config?.data ?? {};
  const pipeline = settings['SMAE_PIPELINE'];
  if (pipeline === undefined) errors.push('ConfigMap smae-config: SMAE_PIPELINE is not set');
  const names = pipelineNames(pipeline ?? 'x');

  for (const o of objects) {
    if (o.kind === 'Secret')
      errors.push(`${id(o)}: secrets are referenced, never rendered from this repository`);
    if (o.kind === 'ConfigMap') {
      for (const k of Object.keys(o.data ?? {})) {
        if (SECRET_NAME.test(k)) errors.push(`${id(o)}: ${k} belongs in a Secret, not a ConfigMap`);
      }
    }
    const pod = podSpec(o);
    if (pod === undefined) continue;
    if (pod.securityContext?.runAsNonRoot !== true) errors.push(`${id(o)}: pod must set runAsNonRoot`);
    for (const c of pod.containers) {
      if (c.securityContext?.readOnlyRootFilesystem !== true)
        errors.push(`${id(o)}: container ${c.name} must have a read-only root filesystem`);
      for (const e of c.env ?? []) {
        if (SECRET_NAME.test(e.name) && e.value !== undefined)
          errors.push(`${id(o)}: ${e.name} is a literal value; reference a Secret (secretKeyRef)`);
      }
      const [bin, entry] = c.command ?? [];
      if (bin !== 'node' || entry === undefined || !entry.startsWith('dist/')) {
        errors.push(
          `${id(o)}: container ${c.name} must run node dist/… (got ${(c.command ?? []).join(' ')})`,
        );
      } else {
        const source = join(REPO_ROOT, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
        if (!existsSync(source)) errors.push(`${id(o)}: ${entry} is built from no source file`);
      }
    }
    if (o.kind === 'Deployment' && o.metadata?.name === 'smae-scorer') {
      const c = pod.containers[0]!;
      if (c.livenessProbe === undefined || c.readinessProbe === undefined)
        errors.push(`${id(o)}: liveness and readiness probes are required`);
      const drainMs = Number(
        c.env?.find((e) => e.name === 'SMAE_SHUTDOWN_TIMEOUT_MS')?.value ??
          settings['SMAE_SHUTDOWN_TIMEOUT_MS'] ??
          DEFAULT_SCORER_SHUTDOWN_MS,
      );
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      if (grace <= drainMs / 1000 + SCORER_CLOSE_GRACE_S)
        errors.push(
          `${id(o)}: terminationGracePeriodSeconds ${grace} must exceed the drain (${drainMs / 1000} s + ${SCORER_CLOSE_GRACE_S} s)`,
        );
    }
  }

  // Autoscaling: the pipeline's group and input topic, within the partitions.
  const scaled = objects.filter((o) => o.kind === 'ScaledObject');
  if (scaled.length === 0) errors.push('no ScaledObject for the scorer');
  const recordsTopic = objects.find(
    (o) => o.kind === 'KafkaTopic' && (o.spec as { topicName?: string })?.topicName === names.topics.records,
  );
  const partitions = recordsTopic
    ? Number((recordsTopic.spec as { partitions: number }).partitions)
    : Number(settings['SMAE_TOPIC_PARTITIONS'] ?? DEFAULT_TOPIC_PARTITIONS);
  for (const o of scaled) {
    const spec = o.spec as {
      scaleTargetRef?: { name?: string };
      minReplicaCount?: number;
      maxReplicaCount?: number;
      triggers?: { type: string; metadata?: Record<string, string> }[];
    };
    if (!objects.some((d) => d.kind === 'Deployment' && d.metadata?.name === spec.scaleTargetRef?.name))
      errors.push(`${id(o)}: scaleTargetRef ${spec.scaleTargetRef?.name} is not a rendered Deployment`);
    const min = spec.minReplicaCount ?? 0;
    const max = spec.maxReplicaCount ?? 100;
    if (min < 1)
      errors.push(`${id(o)}: minReplicaCount ${min} must be at least 1 (the scorer never scales to zero)`);
    if (max < min) errors.push(`${id(o)}: maxReplicaCount ${max} is below minReplicaCount ${min}`);
    if (max > partitions)
      errors.push(
        `${id(o)}: maxReplicaCount ${max} exceeds the input topic's ${partitions} partitions (idle consumers)`,
      );
    const kafka = spec.triggers?.find((t) => t.type === 'kafka');
    if (kafka === undefined) {
      errors.push(`${id(o)}: no kafka trigger`);
      continue;
    }
    const m = kafka.metadata ?? {};
    if (m['topic'] !== names.topics.records)
      errors.push(`${id(o)}: topic ${m['topic']} is not the pipeline's input ${names.topics.records}`);
    if (m['consumerGroup'] !== names.groups.scorer)
      errors.push(
        `${id(o)}: consumerGroup ${m['consumerGroup']} is not the scorer's group ${names.groups.scorer}`,
      );
    if (!(Number(m['lagThreshold']) > 0)) errors.push(`${id(o)}: lagThreshold must be a positive number`);
    if (m['bootstrapServers'] !== settings['KAFKA_BROKERS'])
      errors.push(
        `${id(o)}: bootstrapServers ${m['bootstrapServers']} differ from KAFKA_BROKERS ${settings['KAFKA_BROKERS']}`,
      );
  }
  const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget');
  const scorerLabels = (
    objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === 'smae-scorer')?.spec as
      { template?: { metadata?: { labels?: Record<string, string> } } } | undefined
  )?.template?.metadata?.labels;
  const selector = (pdb?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)
    ?.selector?.matchLabels;
  if (
    selector === undefined ||
    scorerLabels === undefined ||
    !Object.entries(selector).every(([k, v]) => scorerLabels[k] === v)
  )
    errors.push('PodDisruptionBudget: does not select the scorer pods');
  return errors;
}
