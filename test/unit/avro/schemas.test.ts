import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  bundledSchemaPath,
  FLAG_SCHEMA,
  parseSchema,
  SCORE_SCHEMA,
  type AvroType,
} from '../../../shared/avro/schemas.js';
import { flag } from '../alerts/flags.js';

const ADDED = ['thresholdPolicy', 'pValue'];

/** The schema as it was before threshold policies: the same, without the added fields. */
function before(name: 'flag' | 'score'): AvroType {
  const schema = JSON.parse(readFileSync(bundledSchemaPath(name), 'utf8')) as {
    fields: { name: string }[];
  };
  return parseSchema({ ...schema, fields: schema.fields.filter((f) => !ADDED.includes(f.name)) } as never);
}

describe('flag and score schemas evolve compatibly', () => {
  for (const name of ['flag', 'score'] as const) {
    test(`${name}: the added fields are optional with null defaults`, () => {
      const fields = (
        JSON.parse(readFileSync(bundledSchemaPath(name), 'utf8')) as {
          fields: { name: string; type: unknown; default?: unknown }[];
        }
      ).fields;
      for (const f of ADDED) {
        const field = fields.find((x) => x.name === f);
        assert.ok(field, f);
        assert.equal(field.default, null);
        assert.deepEqual((field.type as string[])[0], 'null');
      }
      // and the new schema resolves from the old one
      const current = name === 'flag' ? FLAG_SCHEMA : SCORE_SCHEMA;
      assert.doesNotThrow(() => current.createResolver(before(name)));
    });
  }

  test('a flag written before policies reads with the new schema, policy and p-value null', () => {
    const old = before('flag');
    const { thresholdPolicy: _p, pValue: _v, ...legacy } = flag(7, 'k', 1000);
    const bytes = old.toBuffer(legacy);
    const read = FLAG_SCHEMA.fromBuffer(bytes, FLAG_SCHEMA.createResolver(old)) as Record<string, unknown>;
    assert.equal(read['offset'], 7);
    assert.equal(read['thresholdPolicy'], null);
    assert.equal(read['pValue'], null);
  });

  test('a new flag reads with the old schema (old consumers keep working) and keeps its p-value', () => {
    const old = before('flag');
    const current = flag(8, null, 2000, { thresholdPolicy: 'conformal', pValue: 0.004 });
    const bytes = FLAG_SCHEMA.toBuffer(current);
    const forOld = old.fromBuffer(bytes, old.createResolver(FLAG_SCHEMA)) as Record<string, unknown>;
    assert.equal(forOld['offset'], 8);
    assert.equal('pValue' in forOld, false);
    const again = FLAG_SCHEMA.fromBuffer(bytes) as Record<string, unknown>;
    assert.equal(again['pValue'], 0.004);
    assert.equal(again['thresholdPolicy'], 'conformal');
  });
});
