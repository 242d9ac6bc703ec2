/**
 * Observability as files: the Prometheus alert rules (deploy/prometheus/alerts.yml) pass their promtool
 * unit tests (alerts.test.yml) and fail them when a threshold is planted wrong; the Grafana dashboard
 * (deploy/grafana/smae-pipeline.json) has a stable uid, takes its datasource from a variable, and shows the
 * panels operators need; every metric the rules and the dashboard query is one the code registers.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../tools/infra/kafka/broker.js';

const RULES = join(REPO_ROOT, 'deploy', 'prometheus', 'alerts.yml');
const RULE_TESTS = join(REPO_ROOT, 'deploy', 'prometheus', 'alerts.test.yml');
const DASHBOARD = join(REPO_ROOT, 'deploy', 'grafana', 'smae-pipeline.json');
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const noPromtool =
  promtool.error !== undefined || promtool.status !== 0
    ? 'promtool is not installed (Debian package prometheus; .ci/run installs it)'
    : false;

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: Panel[];
};

/** Metric names registered with prom-client in shared/ and services/ (`name: 'smae_…'`). */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  for (const dir of ['shared', 'services']) {
    for (const f of readdirSync(join(REPO_ROOT, dir), { recursive: true }) as string[]) {
      if (!f.endsWith('.ts')) continue;
      const text = readFileSync(join(REPO_ROOT, dir, f), 'utf8');
      if (!text.includes('prom-client')) continue;
      for (const m of text.matchAll(/name:\s*'(smae_[a-z0-9_]+)'/g)) names.add(m[1]!);
    }
  }
  return names;
}

/** Metric names a PromQL expression reads (a histogram's series by their base name). */
function queried(expr: string): string[] {
  return [...expr.matchAll(/\bsmae_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

function runPromtool(args: string[]): { status: number | null; out: string } {
  const res = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

describe('Prometheus alert rules', () => {
  test('promtool check rules accepts alerts.yml', { skip: noPromtool }, () => {
    const { status, out } = runPromtool(['check', 'rules', RULES]);
    assert.equal(status, 0, out);
    assert.match(out, /SUCCESS: 6 rules found/);
  });

  test(
    'promtool test rules: every alert fires on its series and stays quiet on the others',
    { skip: noPromtool },
    () => {
      const { status, out } = runPromtool(['test', 'rules', RULE_TESTS]);
      assert.equal(status, 0, out);
    },
  );

  test('a threshold planted wrong makes the rule tests fail', { skip: noPromtool }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'smae-rules-'));
    try {
      cpSync(RULE_TESTS, join(dir, 'alerts.test.yml'));
      const rules = readFileSync(RULES, 'utf8');
      const planted = rules.replace('  > 0.01\n        for: 10m', '  > 0.5\n        for: 10m');
      assert.notEqual(planted, rules, 'the dead-letter threshold was planted');
      writeFileSync(join(dir, 'alerts.yml'), planted);
      const { status, out } = runPromtool(['test', 'rules', join(dir, 'alerts.test.yml')]);
      assert.notEqual(status, 0, 'promtool must fail');
      assert.match(out, /SmaeDeadLetterRateHigh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every alert the issue asks for exists and every metric it reads is registered by the code', () => {
    const text = readFileSync(RULES, 'utf8');
    const alerts = [...text.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    assert.deepEqual(alerts, [
      'SmaeScorerLagGrowing',
      'SmaeDeadLetterRateHigh',
      'SmaeFlagRatioAboveBaseline',
      'SmaeEndToEndLatencyP99High',
      'SmaeModelTooOld',
      'SmaeAdaptationsRefusedRepeatedly',
    ]);
    const known = registeredMetrics();
    const unknown = queried(text).filter((m) => !known.has(m));
    assert.deepEqual(unknown, [], 'metrics the rules read but no code registers');
  });
});

describe('Grafana dashboard', () => {
  test('has a stable uid and takes its datasource from a variable', () => {
    assert.equal(dashboard.uid, 'smae-pipeline');
    const ds = dashboard.templating.list.find((v) => v.name === 'datasource');
    assert.equal(ds?.type, 'datasource');
    assert.equal(ds?.query, 'prometheus');
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      assert.equal(p.datasource?.uid, '${datasource}', `panel ${p.title}`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, '${datasource}', `panel ${p.title}`);
    }
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  });

  test('shows the panels operators need, on metrics the code registers', () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const t of [
      'Records/s',
      'Flags/s',
      'Flag ratio',
      'Dead letters/s by code',
      'End-to-end latency',
      'Consumer lag by partition',
      'Model version',
      'Model age',
      'Adaptations by outcome',
    ]) {
      assert.ok(titles.includes(t), `panel ${t}`);
    }
    const known = registeredMetrics();
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const unknown = exprs.flatMap(queried).filter((m) => !known.has(m));
    assert.deepEqual(unknown, [], 'metrics the dashboard reads but no code registers');
    assert.ok(exprs.some((e) => e.includes('smae_scorer_dead_letters_total') && e.includes('code')));
  });
});
