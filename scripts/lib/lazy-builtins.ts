import { builtinModules } from 'node:module';
import type { Plugin } from 'esbuild';

const builtins = new Set(
  builtinModules.flatMap((name) => (name.startsWith('node:') ? [name] : [name, `node:${name}`])),
);

/**
 * An ESM bundle's `import … from 'node:http2'` is hoisted to its top: Node
 * loads every builtin any bundled module imports (http2, zlib, tls… and, for
 * node:http's ESM facade, the whole of undici) before the bundle's first
 * line runs, so before shared/early.ts can listen. This plugin turns each
 * such import into a CommonJS `require` of the builtin, which esbuild runs
 * where the importing module is initialised: the modules the bundle imports
 * dynamically load their builtins when they are evaluated, after the port is
 * open. Same objects (require and import of a builtin share its exports);
 * only when they load changes.
 */
export function lazyBuiltinsPlugin(): Plugin {
  return {
    name: 'lazy-builtins',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z][a-z0-9_/]*$/ }, (args) => {
        if (args.kind !== 'import-statement' || !builtins.has(args.path)) return undefined;
        return { path: args.path, namespace: 'lazy-builtin' };
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}
