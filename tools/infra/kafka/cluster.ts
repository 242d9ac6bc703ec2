/**
 * A KRaft cluster of N local nodes on loopback, each both broker and controller, built from the
 * one-node broker of `broker.ts` (same jars, same node folders, same proof-by-command-line for `down`):
 *
 *   node i (1…N): client port `port + 10·(i−1)`, controller port one above, node.id i,
 *   controller.quorum.voters naming every node, one shared cluster id (kept in <cache>/cluster-<port>.json
 *   so a restarted node rejoins its cluster), replication factor N (at most 3) for topics and the internal
 *   offsets / transaction-state topics, min.insync.replicas 2 when N ≥ 3.
 *
 * `npm run infra:up -- --nodes 3` starts one; `infra:down -- --nodes 3` stops it; the failover benchmark
 * (test/bench/failover.bench.ts) kills and restarts single nodes with `ensureKafka(node)` / kill -9.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  REPO_ROOT,
  ensureKafka,
  randomClusterId,
  stopKafka,
  type BrokerUpResult,
  type LocalBrokerOptions,
} from './broker.js';

export interface ClusterOptions extends Omit<
  LocalBrokerOptions,
  'port' | 'controllerPort' | 'properties' | 'clusterId'
> {
  nodes: number;
  /** Client port of node 1 (default 9092); node i listens on port + 10·(i−1). */
  port?: number;
  /** Extra server.properties for every node. */
  properties?: Readonly<Record<string, string>>;
}

export interface ClusterNode extends LocalBrokerOptions {
  nodeId: number;
  port: number;
  controllerPort: number;
}

/** Client port of node `i` (1-based). */
export function clusterNodePort(basePort: number, i: number): number {
  return basePort + 10 * (i - 1);
}

/** The options of every node; the cluster id is created once and kept beside the node folders. */
export function clusterNodes(opts: ClusterOptions): ClusterNode[] {
  const n = opts.nodes;
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`a local cluster has 1–9 nodes, got ${n}`);
  const base = opts.port ?? 9092;
  const host = opts.host ?? '127.0.0.1';
  const cacheDir = resolve(opts.cacheDir ?? join(REPO_ROOT, '.cache', 'kafka'));
  const idFile = join(cacheDir, `cluster-${base}.json`);
  let clusterId: string;
  if (existsSync(idFile)) {
    clusterId = (JSON.parse(readFileSync(idFile, 'utf8')) as { clusterId: string }).clusterId;
  } else {
    clusterId = randomClusterId();
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(idFile, `${JSON.stringify({ clusterId, nodes: n, port: base })}\n`);
  }
  const voters = Array.from(
    { length: n },
    (_, k) => `${k + 1}@${host}:${clusterNodePort(base, k + 1) + 1}`,
  ).join(',');
  const rf = String(Math.min(n, 3));
  const minIsr = String(n >= 3 ? 2 : 1);
  return Array.from({ length: n }, (_, k) => {
    const port = clusterNodePort(base, k + 1);
    return {
      ...opts,
      cacheDir,
      nodeId: k + 1,
      port,
      controllerPort: port + 1,
      clusterId,
      properties: {
        'node.id': String(k + 1),
        'controller.quorum.voters': voters,
        'default.replication.factor': rf,
        'min.insync.replicas': minIsr,
        'offsets.topic.replication.factor': rf,
        'transaction.state.log.replication.factor': rf,
        'transaction.state.log.min.isr': minIsr,
        'share.coordinator.state.topic.replication.factor': rf,
        'share.coordinator.state.topic.min.isr': minIsr,
        ...opts.properties,
      },
    };
  });
}

/** Starts (or reuses) every node at once — a quorum needs a majority of them — and waits for all. */
export async function startCluster(
  opts: ClusterOptions,
): Promise<{ brokers: string; nodes: BrokerUpResult[] }> {
  const nodes = clusterNodes(opts);
  const results = await Promise.all(nodes.map((node) => ensureKafka(node)));
  return {
    brokers: nodes.map((node) => `${node.host ?? '127.0.0.1'}:${node.port}`).join(','),
    nodes: results,
  };
}

export async function stopCluster(
  opts: ClusterOptions & { purge?: boolean },
): Promise<{ stopped: boolean; pid?: number; detail: string }[]> {
  const nodes = clusterNodes(opts);
  const out = await Promise.all(
    nodes.map((node) => stopKafka({ ...node, ...(opts.purge ? { purge: true } : {}) })),
  );
  if (opts.purge === true) {
    const base = opts.port ?? 9092;
    const cacheDir = resolve(opts.cacheDir ?? join(REPO_ROOT, '.cache', 'kafka'));
    rmSync(join(cacheDir, `cluster-${base}.json`), { force: true });
  }
  return out;
}
