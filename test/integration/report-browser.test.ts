/**
 * Opens a report in headless Chromium (Debian's `chromium`, driven by playwright-core; nothing downloads
 * a browser) and checks that every chart renders with a size and that the page logs no error and
 * requests nothing from the network.
 *
 * Set SMAE_REPORT_SCREENSHOT=/path.png to keep a full-page screenshot; SMAE_REPORT_RUN=runs/<dir> to
 * check a real run's report instead of the fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildReport } from '../../lab/report/build.js';
import { fixtureResults } from '../unit/lab/report/fixture.js';

const CHROMIUM = process.env.SMAE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

test('the report renders its charts in headless Chromium with no console errors', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(
      `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) to run this test`,
    );
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = await mkdtemp(join(tmpdir(), 'smae-report-browser-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let reportPath: string;
  if (process.env.SMAE_REPORT_RUN) {
    reportPath = (await buildReport(resolve(process.env.SMAE_REPORT_RUN), join(dir, 'report.html'))).path;
  } else {
    await writeFile(join(dir, 'results.json'), JSON.stringify(fixtureResults()));
    reportPath = (await buildReport(dir)).path;
  }

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning')
      problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  const requests: string[] = [];
  page.on('request', (req) => requests.push(req.url()));

  const url = pathToFileURL(reportPath).href;
  const response = await page.goto(url, { waitUntil: 'load' });
  assert.ok(response === null || response.ok(), 'the page loads');

  const charts = await page.$$eval('svg.chart', (nodes) =>
    nodes.map((n) => {
      const box = n.getBoundingClientRect();
      return {
        kind: n.getAttribute('data-chart'),
        label: n.getAttribute('aria-label'),
        width: box.width,
        height: box.height,
        marks: n.querySelectorAll('path, rect.bar, circle').length,
      };
    }),
  );
  assert.equal(charts.length, 6, `six charts, got ${charts.length}`);
  for (const c of charts) {
    assert.ok(c.width > 100 && c.height > 50, `${c.label}: ${c.width}×${c.height}`);
    assert.ok(c.marks > 0, `${c.label} draws marks`);
  }
  // A series path has a real extent on screen (not a collapsed or NaN path).
  const pathBoxes = await page.$$eval('svg.chart g.series path', (nodes) =>
    nodes.map((n) => (n as unknown as { getBBox(): { width: number } }).getBBox().width),
  );
  assert.ok(pathBoxes.length > 5 && pathBoxes.some((w) => w > 100), `series paths: ${pathBoxes.join(',')}`);
  const title = await page.title();
  assert.match(title, /SparseMetaAE run/);

  if (process.env.SMAE_REPORT_SCREENSHOT) {
    await page.screenshot({ path: process.env.SMAE_REPORT_SCREENSHOT, fullPage: true });
  }
  assert.deepEqual(problems, [], 'no console errors or warnings');
  assert.deepEqual(
    requests.filter((u) => u !== url && !u.startsWith('data:')),
    [],
    'no request besides the page itself',
  );
});
