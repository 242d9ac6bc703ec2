/**
 * The longest functions of the tree, by line count, per top-level folder:
 *
 *   npm run lint:functions [-- --top N] [-- --max N] [dirs…]     (default: shared services lab tools)
 *
 * Every function counts on its own (a closure inside a factory is counted in the factory's lines too,
 * and again by itself), named by its declaration, its variable or property, or `<anonymous>`.
 * With `--max N`, exits 1 if a function in shared/ or services/ is longer than N lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface FunctionLength {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name !== undefined) return named.name.getText(sf);
  const p = node.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) {
    return p.name.getText(sf);
  }
  return '<anonymous>';
}

/** Every function-like node of one source text with its length in lines. */
export function functionLengths(file: string, text: string): FunctionLength[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: FunctionLength[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isFunctionDeclaration(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isFunctionExpression(node) ||
        ts.isArrowFunction(node) ||
        ts.isConstructorDeclaration(node) ||
        ts.isGetAccessor(node)) &&
      node.body !== undefined
    ) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ file, name: nameOf(node, sf), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

function main(argv: string[]): number {
  const top = Number(argv[argv.indexOf('--top') + 1] ?? 5) || 5;
  const max = argv.includes('--max') ? Number(argv[argv.indexOf('--max') + 1]) : null;
  const dirs = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  let over = 0;
  for (const dir of dirs.length > 0 ? dirs : ['shared', 'services', 'lab', 'tools']) {
    const all = sources(dir)
      .flatMap((f) => functionLengths(f, readFileSync(join(ROOT, f), 'utf8')))
      .sort((a, b) => b.lines - a.lines);
    process.stdout.write(`${dir}/\n`);
    for (const f of all.slice(0, top)) {
      process.stdout.write(`  ${String(f.lines).padStart(5)} lines  ${f.name}  ${f.file}:${f.line}\n`);
    }
    if (max !== null && (dir === 'shared' || dir === 'services')) {
      over += all.filter((f) => f.lines > max).length;
    }
  }
  if (max !== null && over > 0) {
    process.stderr.write(`${over} function(s) in shared/ or services/ longer than ${max} lines\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exit(main(process.argv.slice(2)));
}
