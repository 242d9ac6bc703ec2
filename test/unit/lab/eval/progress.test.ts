import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress, renderBar } from '../../../../lab/eval/progress.js';

describe('progress bar', () => {
  test('renders the fraction done', () => {
    const line = renderBar('train', 15, 30, 'loss 0.01', 80);
    assert.match(line, /^train \[(#+)(-+)\] 15\/30 loss 0\.01$/);
    const m = /\[(#*)(-*)\]/.exec(line)!;
    assert.equal(m[1]!.length, m[2]!.length);
    assert.match(renderBar('x', 30, 30, '', 80), /\[#+\] 30\/30$/);
    assert.match(renderBar('x', 0, 30, '', 80), /\[-+\] {2}0\/30$/);
  });

  test('draws nothing when the stream is not a terminal', () => {
    const chunks: string[] = [];
    const p = createProgress({ isTTY: false, write: (c: string) => chunks.push(c) }, 10, 'x');
    p.update(3);
    p.done();
    assert.deepEqual(chunks, []);
  });

  test('redraws in place on a terminal and clears at the end', () => {
    const chunks: string[] = [];
    const p = createProgress({ isTTY: true, columns: 60, write: (c: string) => chunks.push(c) }, 10, 'x');
    p.update(3, 'a long detail here');
    p.update(4);
    p.done();
    assert.equal(chunks.length, 3);
    for (const c of chunks) assert.ok(c.startsWith('\r') && !c.includes('\n'));
    // The shorter second line is padded over the first one.
    assert.ok(chunks[1]!.length >= chunks[0]!.length);
    assert.match(chunks[2]!, /^\r +\r$/);
  });
});
