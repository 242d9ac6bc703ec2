// An ESLint rule that keeps imports running the right way between the top-level folders:
//
//   shared/          what production runs          may import: shared
//   services/<name>/ one deployable service        may import: shared, its own folder
//   lab/             evaluation, generator, drift  may import: shared, lab, tools/infra
//                    simulator, report, demo
//   tools/           the smae CLI, local infra,    may import: shared, lab, tools, services
//                    lint rules                    (a command may run a service in the foreground)
//   test/            tests and benchmarks          may import anything
//
// Only relative specifiers are checked (packages are not layers).
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The layer of a repository-relative path: `services/<name>` for a service, else its top folder. */
function layerOf(rel) {
  const parts = rel.split(sep);
  if (parts[0] === 'services' && parts.length > 2) return `services/${parts[1]}`;
  if (parts[0] === 'tools' && parts[1] === 'infra') return 'tools/infra';
  return parts[0];
}

function allowed(from, to) {
  if (from === to) return true;
  const top = to.split('/')[0];
  switch (from.split('/')[0]) {
    case 'shared':
      return top === 'shared';
    case 'services':
      return top === 'shared';
    case 'lab':
      return top === 'shared' || to === 'tools/infra';
    case 'tools':
      return top === 'shared' || top === 'lab' || top === 'tools' || top === 'services';
    default:
      return true;
  }
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between top-level folders run one way (see tools/lint/layers.js)' },
    messages: {
      wrongWay: '{{from}} may not import from {{to}} ("{{spec}}"): see the layer rules in the README.',
    },
    schema: [],
  },
  create(context) {
    const file = relative(ROOT, context.filename);
    if (file.startsWith('..')) return {};
    const from = layerOf(file);
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = relative(ROOT, resolve(dirname(context.filename), spec));
      const to = layerOf(target);
      if (!allowed(from, to)) context.report({ node, messageId: 'wrongWay', data: { from, to, spec } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { direction: rule } };
