import { globSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin } from 'esbuild';

/** Where one copy of a package sits in node_modules. */
export interface PackageCopy {
  name: string;
  version: string;
  /** The package's directory (…/node_modules/@scope/name), `/`-separated. */
  root: string;
}

/** Every copy of the packages in `scope` under `nodeModules`, nested ones too. */
export function findCopies(nodeModules: string, scope: string): PackageCopy[] {
  const patterns = [`${scope}/*/package.json`, `**/node_modules/${scope}/*/package.json`];
  return patterns
    .flatMap((pattern) => globSync(pattern, { cwd: nodeModules }))
    .map((file) => {
      const { name, version } = JSON.parse(readFileSync(join(nodeModules, file), 'utf8'));
      return { name, version, root: join(nodeModules, file, '..').split(sep).join('/') };
    });
}

/**
 * For each name@version with more than one copy, the copy every import of it
 * goes to: the least nested (then the first by path), so the choice does not
 * depend on the order esbuild resolves in.
 */
export function canonicalCopies(copies: readonly PackageCopy[]): Map<string, string> {
  const chosen = new Map<string, string>();
  const depth = (root: string) => root.split('/node_modules/').length;
  for (const copy of copies) {
    const key = `${copy.name}@${copy.version}`;
    const current = chosen.get(key);
    if (
      current === undefined ||
      depth(copy.root) < depth(current) ||
      (depth(copy.root) === depth(current) && copy.root < current)
    )
      chosen.set(key, copy.root);
  }
  return chosen;
}

/**
 * npm nests a copy of a package wherever its hoisted version differs from the
 * one a dependant asks for: with @opentelemetry/sdk-node 0.223.0 beside the
 * OTLP/HTTP exporter 0.223.1 (package.json now pins both at 0.223.0) that
 * left four identical copies of @opentelemetry/core 2.12.0 (three of
 * sdk-metrics, resources, sdk-trace) in node_modules, each bundled. A guard
 * against the next such mismatch, this plugin sends every import of one name@version to one copy. Different
 * versions stay apart, as npm installed them.
 */
export function oneCopyPlugin(options: { nodeModules: string; scope?: string }): Plugin {
  const scope = options.scope ?? '@opentelemetry';
  const copies = findCopies(options.nodeModules, scope);
  const canonical = canonicalCopies(copies);
  const keyOf = new Map(copies.map((copy) => [copy.root, `${copy.name}@${copy.version}`]));
  // Longest first: a nested copy's files are under its dependant's directory too.
  const roots = [...keyOf.keys()].sort((a, b) => b.length - a.length);
  const filter = new RegExp(`^${scope.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/`);
  return {
    name: 'one-copy',
    setup(build) {
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData?.oneCopy) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { oneCopy: true },
        });
        if (resolved.errors.length > 0 || resolved.namespace !== 'file') return resolved;
        const file = resolved.path.split(sep).join('/');
        const root = roots.find((r) => file.startsWith(`${r}/`));
        const target = root && canonical.get(keyOf.get(root) ?? '');
        if (!root || !target || target === root) return resolved;
        return { ...resolved, path: join(target, relative(root, file)) };
      });
    },
  };
}
