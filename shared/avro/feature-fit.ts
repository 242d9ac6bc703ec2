/**
 * Whether a record schema can feed a model's features, decided from the schema's field types before a
 * single record arrives: a numeric feature needs a number field (`int`, `long`, `float`, `double`), a
 * categorical one a field whose values read as labels (`string`, `enum`, `boolean` or a number); either
 * may be nullable (`["null", …]`: a null is then missing, imputed or dead-lettered per record). Without
 * this, a schema whose names match but whose types do not sends every record to the dead-letter topic.
 */
import type { FeatureSpec } from '../preprocessing/spec.js';
import type { AvroType } from './schemas.js';

export interface FieldFitIssue {
  /** The feature's field. */
  field: string;
  /** Its type in the record schema (`boolean`, `["null","string"]`), or `absent`. */
  type: string;
  /** What the model needs of it. */
  needs: string;
}

const NUMBER_TYPES = new Set(['int', 'long', 'float', 'double']);
const LABEL_TYPES = new Set(['string', 'enum', 'boolean', 'int', 'long', 'float', 'double']);
const NEEDS = {
  numeric: 'a number (int, long, float or double) for numeric feature',
  categorical: 'text or a label (string, enum, boolean or a number) for categorical feature',
} as const;

/** Every feature of `spec` that the record type cannot feed, with its type and what it needs. */
export function featureFitIssues(record: AvroType, spec: Pick<FeatureSpec, 'features'>): FieldFitIssue[] {
  const rec = record as unknown as { getField?: (name: string) => { getType(): AvroType } | undefined };
  const issues: FieldFitIssue[] = [];
  for (const f of spec.features) {
    const needs = `${NEEDS[f.kind]} "${f.name}"`;
    const field = typeof rec.getField === 'function' ? rec.getField(f.name) : undefined;
    if (!field) {
      issues.push({ field: f.name, type: 'absent', needs });
      continue;
    }
    const type = field.getType();
    const branches = branchNames(type);
    const ok = f.kind === 'numeric' ? NUMBER_TYPES : LABEL_TYPES;
    const present = branches.filter((b) => b !== 'null');
    if (present.length === 0 || !present.every((b) => ok.has(b))) {
      issues.push({
        field: f.name,
        type: branches.length === 1 ? branches[0]! : JSON.stringify(branches),
        needs,
      });
    }
  }
  return issues;
}

/** A type's name, or its branches' names for a union (`int`, `string`, `enum`, `record`, …). */
function branchNames(type: AvroType): string[] {
  const t = type as unknown as { typeName: string; getTypes?: () => AvroType[] };
  if (t.typeName.startsWith('union') && typeof t.getTypes === 'function') {
    return t.getTypes().flatMap(branchNames);
  }
  return [t.typeName];
}

/** One line per issue: `x1 is "boolean"; the model needs a number (…) for numeric feature "x1"`. */
export function describeFitIssue(i: FieldFitIssue): string {
  return i.type === 'absent'
    ? `field "${i.field}" is not in the record schema; the model needs ${i.needs}`
    : `field "${i.field}" is ${i.type}; the model needs ${i.needs}`;
}
