/**
 * An ESLint rule for the modules docker-credential-hub and hub's fast path (`hub --version`,
 * `hub status`) load before they answer: docker starts the helper for every operation on a hub
 * registry, so each package or module it loads eagerly is paid on every docker pull and push.
 * Such a module may import (as a value, at the top) only node's built-ins and other modules of
 * the same list; anything else is loaded with `await import()` where the answer needs it.
 * Type-only imports cost nothing at run time and are allowed. A workspace package's module
 * (`@hub/common/errors`) is a source file bundled with the helper: it is checked like a relative one.
 */
import {dirname, relative, resolve} from 'node:path';

export function startUpPathRule(root, modules) {
  const allowed = new Set(modules);
  return {
    meta: {
      type: 'problem',
      docs: {description: 'Modules on the credential helper and fast path import nothing heavy eagerly'},
      schema: [],
      messages: {
        package:
          "'{{source}}' is loaded by docker-credential-hub or hub's fast path on every run: load it with `await import()` where it is needed, or import only its types.",
        module:
          "'{{source}}' is not on the start-up path (eslint.config.js lists it): load it with `await import()` where it is needed, or import only its types.",
      },
    },
    create(context) {
      const file = relative(root, context.filename).split('\\').join('/');
      if (!allowed.has(file)) return {};
      const check = (node, source, typeOnly) => {
        if (typeOnly || source.startsWith('node:')) return;
        const workspace = /^@hub\/([^/]+)\/(.+)$/.exec(source);
        if (!source.startsWith('.') && !workspace) {
          context.report({node, messageId: 'package', data: {source}});
          return;
        }
        const path = workspace
          ? resolve(root, 'packages', workspace[1], 'src', `${workspace[2]}.ts`)
          : resolve(dirname(context.filename), source);
        const target = relative(root, path).split('\\').join('/').replace(/\.js$/, '.ts');
        if (!allowed.has(target)) context.report({node, messageId: 'module', data: {source}});
      };
      const typeOnlyImport = (node) =>
        node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'));
      return {
        ImportDeclaration: (node) => check(node, node.source.value, typeOnlyImport(node)),
        ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, node.exportKind === 'type'),
        ExportAllDeclaration: (node) => check(node, node.source.value, node.exportKind === 'type'),
      };
    },
  };
}
