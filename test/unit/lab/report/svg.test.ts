import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, formatNumber, histogramChart, lineChart, niceTicks } from '../../../../lab/report/svg.js';

describe('svg charts', () => {
  test('nice ticks are round and cover the range', () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0, 97, 5), [0, 20, 40, 60, 80]);
    assert.deepEqual(niceTicks(1, 3, 5, true), [1, 2, 3]);
    assert.deepEqual(niceTicks(2, 2), [2]);
  });

  test('numbers format compactly', () => {
    assert.equal(formatNumber(12345), '12.3k');
    assert.equal(formatNumber(2_500_000), '2.5M');
    assert.equal(formatNumber(0.000123), '0.00012');
    assert.equal(formatNumber(3.14159), '3.14');
    assert.equal(formatNumber(250.4), '250');
  });

  test('a line chart maps points inside the plot, step lines go horizontal first', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      width: 400,
      height: 200,
      series: [
        {
          name: 's',
          color: '#000',
          points: [
            [0, 0],
            [10, 5],
          ],
          step: true,
        },
      ],
      markers: [{ at: 5, label: 'm: here', color: '#f00' }],
    });
    const d = /data-series="s"><path d="([^"]+)"/.exec(svg)![1]!;
    assert.match(d, /^M\S+ \S+ H\S+ V\S+$/);
    for (const num of d.match(/-?\d+(\.\d+)?/g)!.map(Number)) assert.ok(num >= 0 && num <= 400, d);
    assert.match(svg, /<title>m: here<\/title>/);
    assert.match(svg, /viewBox="0 0 400 200"/);
  });

  test('a histogram draws one bar per non-empty bin and series', () => {
    const svg = histogramChart({
      title: 'h',
      xLabel: 'x',
      yLabel: 'n',
      bins: [
        { lo: 0, hi: 1, values: [5, 0] },
        { lo: 1, hi: 2, values: [3, 2] },
      ],
      series: [
        { name: 'a', color: '#00f' },
        { name: 'b', color: '#f00' },
      ],
    });
    assert.equal((svg.match(/<rect class="bar"/g) ?? []).length, 3);
  });

  test('text is escaped', () => {
    assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
