import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, InputError, ModelError } from '../../../shared/errors.js';
import { Preprocessor, UNKNOWN_CATEGORY } from '../../../shared/preprocessing/preprocessor.js';
import { inferFeatureSpec } from '../../../shared/preprocessing/infer.js';
import type { FeatureSpec, ImputePolicy, ScalerKind } from '../../../shared/preprocessing/spec.js';

const ROWS = [
  { a: 1, b: 10, k: 5, color: 'red' },
  { a: 2, b: 20, k: 5, color: 'blue' },
  { a: 3, b: 30, k: 5, color: 'red' },
  { a: 6, b: 40, k: 5, color: 'green' },
];

function spec(scaler: ScalerKind, impute: ImputePolicy = 'error'): FeatureSpec {
  return {
    scaler,
    impute,
    features: [
      { kind: 'numeric', name: 'a' },
      { kind: 'numeric', name: 'b' },
      { kind: 'numeric', name: 'k' },
      { kind: 'categorical', name: 'color' },
    ],
  };
}

function row(p: Preprocessor, record: Record<string, unknown>): number[] {
  const out = new Float32Array(p.width);
  p.transformInto(record, out, 0);
  return [...out];
}

function inputError(code: string, field: string) {
  return (err: unknown) => {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    assert.match(err.message, new RegExp(`"${field}"`));
    return true;
  };
}

describe('Preprocessor.fit', () => {
  test('columns: numeric fields, then one-hot slots for sorted categories plus <unknown>', () => {
    const p = Preprocessor.fit(ROWS, spec('none'));
    assert.deepEqual(p.fitted.columns, [
      'a',
      'b',
      'k',
      'color=blue',
      'color=green',
      'color=red',
      `color=${UNKNOWN_CATEGORY}`,
    ]);
    assert.equal(p.width, 7);
  });

  test('minmax: offset min, scale range; a constant column gets scale 1', () => {
    const p = Preprocessor.fit(ROWS, spec('minmax'));
    assert.deepEqual(p.fitted.offset.slice(0, 3), [1, 10, 5]);
    assert.deepEqual(p.fitted.scale.slice(0, 3), [5, 30, 1]);
    assert.deepEqual(row(p, ROWS[3]!).slice(0, 3), [1, 1, 0]);
  });

  test('standard: offset mean, scale population std; std 0 gives scale 1', () => {
    const p = Preprocessor.fit(ROWS, spec('standard'));
    assert.equal(p.fitted.offset[0], 3);
    assert.ok(Math.abs(p.fitted.scale[0]! - Math.sqrt(3.5)) < 1e-12);
    assert.equal(p.fitted.offset[2], 5);
    assert.equal(p.fitted.scale[2], 1);
    // one-hot columns are never scaled
    assert.deepEqual(p.fitted.offset.slice(3), [0, 0, 0, 0]);
    assert.deepEqual(p.fitted.scale.slice(3), [1, 1, 1, 1]);
  });

  test('none leaves values as they are; means are recorded per numeric field', () => {
    const p = Preprocessor.fit(ROWS, spec('none'));
    assert.deepEqual(row(p, ROWS[1]!), [2, 20, 5, 1, 0, 0, 0]);
    assert.deepEqual(p.fitted.means, { a: 3, b: 25, k: 5 });
  });

  test('the scaler is fitted on the rows given, nothing else', () => {
    const p = Preprocessor.fit(ROWS.slice(0, 2), spec('minmax'));
    assert.deepEqual(row(p, ROWS[3]!).slice(0, 2), [5, 3]);
  });

  test('a missing value in training rows is refused, with the row index', () => {
    assert.throws(
      () => Preprocessor.fit([...ROWS, { a: 1, b: null, k: 5, color: 'red' }], spec('minmax')),
      (err: unknown) =>
        err instanceof InputError && err.code === 'MISSING_FIELD' && /row 4/.test(err.message),
    );
  });

  test('declared categories are kept (and sorted) instead of the ones seen', () => {
    const s = spec('none');
    s.features[3] = { kind: 'categorical', name: 'color', categories: ['red', 'amber'] };
    const p = Preprocessor.fit(ROWS, s);
    assert.deepEqual(p.fitted.columns.slice(3), ['color=amber', 'color=red', `color=${UNKNOWN_CATEGORY}`]);
    assert.deepEqual(row(p, ROWS[1]!).slice(3), [0, 0, 1]);
  });

  test('refuses a spec without features, with duplicates, or with an unknown scaler', () => {
    assert.throws(
      () => Preprocessor.fit(ROWS, { features: [], scaler: 'none', impute: 'error' }),
      /feature spec/,
    );
    assert.throws(
      () =>
        Preprocessor.fit(ROWS, {
          features: [
            { kind: 'numeric', name: 'a' },
            { kind: 'numeric', name: 'a' },
          ],
          scaler: 'none',
          impute: 'error',
        }),
      /feature spec/,
    );
    assert.throws(
      () => Preprocessor.fit(ROWS, { ...spec('none'), scaler: 'robust' as ScalerKind }),
      /feature spec/,
    );
  });
});

describe('Preprocessor.transformInto', () => {
  const p = Preprocessor.fit(ROWS, spec('minmax'));

  test('an unseen category goes to the <unknown> slot', () => {
    assert.deepEqual(row(p, { a: 1, b: 10, k: 5, color: 'purple' }).slice(3), [0, 0, 0, 1]);
  });

  test('numbers and booleans are categories too (stringified)', () => {
    const q = Preprocessor.fit(
      [
        { n: 1, flag: true },
        { n: 2, flag: false },
      ],
      {
        scaler: 'none',
        impute: 'error',
        features: [
          { kind: 'categorical', name: 'flag' },
          { kind: 'categorical', name: 'n' },
        ],
      },
    );
    assert.deepEqual(q.fitted.columns, [
      'flag=false',
      'flag=true',
      `flag=${UNKNOWN_CATEGORY}`,
      'n=1',
      'n=2',
      `n=${UNKNOWN_CATEGORY}`,
    ]);
    assert.deepEqual(row(q, { flag: 'true', n: 2 }), [0, 1, 0, 0, 1, 0]);
  });

  test('numeric strings from CSV files are numbers', () => {
    assert.deepEqual(
      row(p, { a: '6', b: ' 4e1 ', k: '5.0', color: 'red' }),
      row(p, { a: 6, b: 40, k: 5, color: 'red' }),
    );
    assert.deepEqual(
      row(p, { a: 6n, b: '-.5', k: '+5', color: 'red' }),
      row(p, { a: 6, b: -0.5, k: 5, color: 'red' }),
    );
  });

  test('missing values (absent, null, undefined, empty string) are MISSING_FIELD naming the field', () => {
    assert.throws(() => row(p, { b: 10, k: 5, color: 'red' }), inputError('MISSING_FIELD', 'a'));
    assert.throws(() => row(p, { a: 1, b: null, k: 5, color: 'red' }), inputError('MISSING_FIELD', 'b'));
    assert.throws(() => row(p, { a: 1, b: 2, k: undefined, color: 'red' }), inputError('MISSING_FIELD', 'k'));
    assert.throws(() => row(p, { a: 1, b: 2, k: 3, color: '' }), inputError('MISSING_FIELD', 'color'));
  });

  test('NaN and ±Infinity (numbers or strings) are NON_FINITE_VALUE', () => {
    assert.throws(
      () => row(p, { a: Number.NaN, b: 10, k: 5, color: 'red' }),
      inputError('NON_FINITE_VALUE', 'a'),
    );
    assert.throws(
      () => row(p, { a: 1, b: -Infinity, k: 5, color: 'red' }),
      inputError('NON_FINITE_VALUE', 'b'),
    );
    assert.throws(() => row(p, { a: 1, b: 2, k: 'nan', color: 'red' }), inputError('NON_FINITE_VALUE', 'k'));
    assert.throws(
      () => row(p, { a: 'Infinity', b: 2, k: 3, color: 'red' }),
      inputError('NON_FINITE_VALUE', 'a'),
    );
  });

  test('wrong types are WRONG_TYPE: objects, arrays, booleans or words for numbers', () => {
    assert.throws(() => row(p, { a: { v: 1 }, b: 10, k: 5, color: 'red' }), inputError('WRONG_TYPE', 'a'));
    assert.throws(() => row(p, { a: 1, b: [1], k: 5, color: 'red' }), inputError('WRONG_TYPE', 'b'));
    assert.throws(() => row(p, { a: 1, b: 2, k: true, color: 'red' }), inputError('WRONG_TYPE', 'k'));
    assert.throws(() => row(p, { a: '3.5kg', b: 2, k: 3, color: 'red' }), inputError('WRONG_TYPE', 'a'));
    assert.throws(
      () => row(p, { a: 1, b: 2, k: 3, color: { name: 'red' } }),
      inputError('WRONG_TYPE', 'color'),
    );
  });

  test('writes at the offset and leaves the rest of the buffer alone', () => {
    const out = new Float32Array(p.width * 2).fill(7);
    p.transformInto(ROWS[0]!, out, p.width);
    assert.deepEqual([...out.subarray(0, p.width)], new Array(p.width).fill(7));
    assert.deepEqual([...out.subarray(p.width)], row(p, ROWS[0]!));
  });

  test('transform reports the first bad row by index', () => {
    assert.throws(
      () => p.transform([ROWS[0]!, ROWS[1]!, { ...ROWS[2]!, b: 'x' }]),
      (err: unknown) =>
        err instanceof InputError && err.code === 'WRONG_TYPE' && err.field === 'b' && err.details?.row === 2,
    );
  });
});

describe('imputation', () => {
  test("impute 'mean': a missing or non-finite numeric value becomes the training mean", () => {
    const p = Preprocessor.fit(ROWS, spec('none', 'mean'));
    assert.deepEqual(row(p, { b: null, k: Number.NaN, color: 'red' }).slice(0, 3), [3, 25, 5]);
  });

  test("impute 'zero': raw 0, then scaled", () => {
    const p = Preprocessor.fit(ROWS, spec('minmax', 'zero'));
    const [a, b] = row(p, { a: '', b: 'inf', k: 5, color: 'red' });
    assert.ok(Math.abs(a! - (0 - 1) / 5) < 1e-6);
    assert.ok(Math.abs(b! - (0 - 10) / 30) < 1e-6);
  });

  test('under an impute policy a missing category goes to <unknown>; wrong types still fail', () => {
    const p = Preprocessor.fit(ROWS, spec('none', 'mean'));
    assert.deepEqual(row(p, { a: 1, b: 2, k: 3 }).slice(3), [0, 0, 0, 1]);
    assert.throws(() => row(p, { a: {}, b: 2, k: 3, color: 'red' }), inputError('WRONG_TYPE', 'a'));
  });

  test('training rows with gaps: statistics and means come from the present values', () => {
    const p = Preprocessor.fit([{ a: 1 }, { a: null }, { a: 5 }], {
      scaler: 'minmax',
      impute: 'mean',
      features: [{ kind: 'numeric', name: 'a' }],
    });
    assert.equal(p.fitted.means.a, 3);
    assert.deepEqual([p.fitted.offset[0], p.fitted.scale[0]], [1, 4]);
  });
});

describe('fitted state', () => {
  test('fromFitted(JSON round trip) transforms identically; inverseColumn maps back to raw units', () => {
    const p = Preprocessor.fit(ROWS, spec('standard'));
    const q = Preprocessor.fromFitted(JSON.parse(JSON.stringify(p.fitted)));
    for (const r of ROWS) assert.deepEqual(row(q, r), row(p, r));
    const x = row(q, ROWS[3]!);
    assert.ok(Math.abs(q.inverseColumn(0, x[0]!) - 6) < 1e-5);
    assert.ok(Math.abs(q.inverseColumn(1, x[1]!) - 40) < 1e-5);
  });

  test('an inconsistent fitted state is INCOMPATIBLE_MODEL', () => {
    const fitted = Preprocessor.fit(ROWS, spec('minmax')).fitted;
    const bad = [
      { ...fitted, scale: fitted.scale.slice(1) },
      { ...fitted, columns: ['z', ...fitted.columns.slice(1)] },
      { ...fitted, scale: fitted.scale.map((s, i) => (i === 0 ? 0 : s)) },
    ];
    for (const state of bad) {
      assert.throws(
        () => Preprocessor.fromFitted(state),
        (err: unknown) => err instanceof ModelError && err.code === 'INCOMPATIBLE_MODEL',
      );
    }
  });
});

describe('inferFeatureSpec', () => {
  const sample = [
    { x: '1.5', y: 2, kind: 'a', label: 0, id: 'r1' },
    { x: '', y: 3, kind: 'b', label: 1, id: 'r2' },
    { x: '2', y: 'nan', kind: 'a', label: 0, id: 'r3' },
  ];

  test('numeric when every present value reads as a number, categorical otherwise; exclusions honoured', () => {
    const s = inferFeatureSpec(['x', 'y', 'kind', 'label', 'id'], sample, {
      exclude: ['label', 'id'],
      scaler: 'standard',
    });
    assert.deepEqual(s, {
      features: [
        { kind: 'numeric', name: 'x' },
        { kind: 'numeric', name: 'y' },
        { kind: 'categorical', name: 'kind' },
      ],
      scaler: 'standard',
      impute: 'error',
    });
  });

  test('forced kinds win; an identifier-like text column is refused with a hint', () => {
    const s = inferFeatureSpec(['y', 'label'], sample, { categorical: ['label'], numeric: ['y'] });
    assert.deepEqual(
      s.features.map((f) => f.kind),
      ['numeric', 'categorical'],
    );
    assert.throws(
      () => inferFeatureSpec(['id'], sample, { maxCategories: 2 }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues[0]?.path === 'id' &&
        /exclude it or declare it categorical/.test(err.issues[0].message),
    );
  });
});
