import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, parseRunResults, renderReport, formatDuration } from '../../../../lab/report/index.js';
import { phaseBands } from '../../../../lab/report/html.js';
import { ConfigError } from '../../../../shared/errors.js';
import { fixtureResults } from './fixture.js';

describe('renderReport', () => {
  test('the page holds every chart and the headline figures', () => {
    const html = renderReport(fixtureResults());
    const charts = html.match(/<svg [^>]*class="chart"/g) ?? [];
    assert.equal(charts.length, 6, 'scores, flags, rates, versions, throughput, latency');
    for (const id of [
      'summary',
      'detection',
      'scores',
      'flags',
      'rates',
      'versions',
      'throughput',
      'latency',
      'adaptations',
    ]) {
      assert.match(html, new RegExp(`<section id="${id}">`), id);
    }
    assert.match(html, /F1-macro/);
    assert.match(html, /initial threshold: v1 = 0\.0123/);
    assert.match(html, /adaptation refused: flagged share 0\.14 &gt; 0\.1/);
    assert.match(html, /published by adapter: v2, threshold/);
    assert.ok((html.match(/<rect class="bar"/g) ?? []).length > 20, 'histogram bars');
  });

  test('self-contained: no script, no external resource, user text escaped', () => {
    const html = renderReport(fixtureResults());
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
    assert.doesNotMatch(html, /@import|url\(/i);
    assert.match(html, /fixture &lt;data&gt; &amp; &quot;quotes&quot; are escaped/);
    assert.doesNotMatch(html, /<data>/);
  });

  test('a run without scores, windows or adaptations still renders, saying what is missing', () => {
    const html = renderReport(
      fixtureResults({ windows: [], adaptations: [], scores: { scale: 'log10', bins: [] } }),
    );
    assert.match(html, /No scores were recorded/);
    assert.match(html, /No windows were recorded/);
    assert.match(html, /No adaptation ran/);
  });

  test('null values break the lines instead of drawing zeros', () => {
    const r = fixtureResults();
    r.windows[5]!.recall = null;
    const html = renderReport(r);
    const rates = html.slice(html.indexOf('<section id="rates">'), html.indexOf('<section id="versions">'));
    const recallPaths = rates.match(/data-series="recall"><path d="[^"]*"[^>]*\/><path/g) ?? [];
    assert.equal(recallPaths.length, 1, 'the recall line is split in two paths');
  });

  test('phases become contiguous bands; durations read as seconds or minutes', () => {
    const bands = phaseBands(fixtureResults().windows);
    assert.deepEqual(
      bands.map((b) => [b.label, b.from, b.to]),
      [
        ['stable', 0, 20],
        ['abrupt', 20, 40],
        ['gradual', 40, 60],
      ],
    );
    assert.equal(formatDuration(42_000), '42s');
    assert.equal(formatDuration(185_000), '3m05s');
    assert.equal(formatDuration(-5000), '-5s');
  });
});

describe('results.json', () => {
  test('a malformed file is refused with every failing path named', () => {
    const bad = { ...fixtureResults(), format: 'other', counts: { sent: -1 } };
    assert.throws(
      () => parseRunResults(bad),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const paths = err.issues.map((i) => i.path);
        assert.ok(paths.includes('format'), paths.join());
        assert.ok(paths.includes('counts.sent'), paths.join());
        return true;
      },
    );
  });

  test('buildReport writes report.html beside results.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smae-report-'));
    try {
      await writeFile(join(dir, 'results.json'), JSON.stringify(fixtureResults()));
      const built = await buildReport(dir);
      assert.equal(built.path, join(dir, 'report.html'));
      const html = await readFile(built.path, 'utf8');
      assert.equal(Buffer.byteLength(html), built.bytes);
      assert.match(html, /^<!doctype html>/);
      await assert.rejects(buildReport(join(dir, 'missing')), /no such file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
