import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom, injectAnomaly } from '../../../../lab/generator/index.js';

const fields = ['a', 'b', 'c', 'd', 'e'];

function base(): Record<string, unknown> {
  return { a: 1, b: 2, c: 3, d: 4, e: 5, name: 'x' };
}

describe('injectAnomaly', () => {
  test('variant A multiplies exactly 2 features by one factor in [6, 30)', () => {
    const draws = new SeededRandom(1);
    for (let trial = 0; trial < 200; trial++) {
      const r = base();
      const inj = injectAnomaly(r, fields, 'A', draws);
      assert.equal(inj.features.length, 2);
      const ratios = inj.features.map((f) => (r[f] as number) / (base()[f] as number));
      assert.ok(Math.abs(ratios[0]! - ratios[1]!) < 1e-9, 'one factor for both');
      assert.ok(ratios[0]! >= 6 && ratios[0]! < 30);
      for (const f of fields.filter((x) => !inj.features.includes(x))) assert.equal(r[f], base()[f]);
      assert.equal(r.name, 'x');
    }
  });

  test('variant B moves half of the features (at least one): ×U(6,30) then +U(10,300)', () => {
    const draws = new SeededRandom(2);
    for (let trial = 0; trial < 200; trial++) {
      const r = base();
      const inj = injectAnomaly(r, fields, 'B', draws);
      assert.equal(inj.features.length, 2);
      for (const f of inj.features) {
        const v = r[f] as number;
        const x = base()[f] as number;
        assert.ok(v >= 6 * x + 10 && v < 30 * x + 300, `${f}: ${v}`);
      }
    }
    const one = { a: 1 };
    assert.deepEqual(injectAnomaly(one, ['a'], 'B', draws).features, ['a']);
  });

  test('fields without a finite number are skipped; with none, nothing happens', () => {
    const draws = new SeededRandom(3);
    const r: Record<string, unknown> = { a: null, b: 'text', c: 2 };
    const inj = injectAnomaly(r, ['a', 'b', 'c'], 'A', draws);
    assert.deepEqual(inj.features, ['c']);
    assert.equal(r.a, null);
    assert.deepEqual(injectAnomaly({ a: null }, ['a'], 'A', draws).features, []);
  });
});
