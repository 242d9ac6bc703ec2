import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchema } from '../../../shared/avro/schemas.js';
import { describeFitIssue, featureFitIssues } from '../../../shared/avro/feature-fit.js';

const TYPE = parseSchema({
  type: 'record',
  name: 'R',
  fields: [
    { name: 'b', type: 'boolean' },
    { name: 's', type: 'string' },
    { name: 'd', type: ['null', 'double'], default: null },
    { name: 'l', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'e', type: { type: 'enum', name: 'E', symbols: ['x'] } },
    { name: 'e2', type: 'E' },
    { name: 'arr', type: { type: 'array', items: 'double' } },
    { name: 'mixed', type: ['null', 'string', 'double'] },
  ],
} as never);

describe('featureFitIssues', () => {
  test('numeric features need number fields; nullable numbers are fine', () => {
    const issues = featureFitIssues(TYPE, {
      features: ['b', 's', 'd', 'l', 'arr', 'mixed', 'gone'].map((name) => ({
        kind: 'numeric' as const,
        name,
      })),
    });
    assert.deepEqual(
      issues.map((i) => [i.field, i.type]),
      [
        ['b', 'boolean'],
        ['s', 'string'],
        ['arr', 'array'],
        ['mixed', '["null","string","double"]'],
        ['gone', 'absent'],
      ],
    );
    assert.equal(
      describeFitIssue(issues[0]!),
      'field "b" is boolean; the model needs a number (int, long, float or double) for numeric feature "b"',
    );
    assert.match(describeFitIssue(issues[4]!), /field "gone" is not in the record schema/);
  });

  test('categorical features take text, enums (named references too), booleans and numbers, not arrays', () => {
    const issues = featureFitIssues(TYPE, {
      features: ['b', 's', 'd', 'e', 'e2', 'mixed', 'arr'].map((name) => ({
        kind: 'categorical' as const,
        name,
      })),
    });
    assert.deepEqual(
      issues.map((i) => i.field),
      ['arr'],
    );
    assert.match(describeFitIssue(issues[0]!), /needs text or a label .* for categorical feature "arr"/);
  });
});
