import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyProperties } from '../../../../../tools/infra/kafka/broker.js';
import { clusterNodes } from '../../../../../tools/infra/kafka/cluster.js';

test('applyProperties replaces existing keys in place and appends new ones', () => {
  const text = '# c\nnode.id=1\nlisteners=PLAINTEXT://a:1\nnum.partitions=1\n';
  const out = applyProperties(text, { 'node.id': '3', 'min.insync.replicas': '2' });
  assert.match(out, /^node\.id=3$/m);
  assert.doesNotMatch(out, /^node\.id=1$/m);
  assert.match(out, /^listeners=PLAINTEXT:\/\/a:1$/m);
  assert.match(out, /^min\.insync\.replicas=2$/m);
  assert.equal(out.match(/node\.id=/g)?.length, 1);
});

test('a three-node cluster: ports 10 apart, one voter set, one cluster id, RF 3 and min ISR 2', (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'smae-cluster-'));
  t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
  const nodes = clusterNodes({ nodes: 3, port: 29810, cacheDir });
  assert.deepEqual(
    nodes.map((n) => [n.nodeId, n.port, n.controllerPort]),
    [
      [1, 29810, 29811],
      [2, 29820, 29821],
      [3, 29830, 29831],
    ],
  );
  assert.equal(new Set(nodes.map((n) => n.clusterId)).size, 1);
  for (const n of nodes) {
    assert.equal(
      n.properties?.['controller.quorum.voters'],
      '1@127.0.0.1:29811,2@127.0.0.1:29821,3@127.0.0.1:29831',
    );
    assert.equal(n.properties?.['node.id'], String(n.nodeId));
    assert.equal(n.properties?.['transaction.state.log.replication.factor'], '3');
    assert.equal(n.properties?.['min.insync.replicas'], '2');
  }
  // The cluster id is kept, so a restarted node rejoins the same cluster.
  assert.equal(clusterNodes({ nodes: 3, port: 29810, cacheDir })[0]!.clusterId, nodes[0]!.clusterId);
});
