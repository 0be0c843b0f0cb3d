import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The runtime (shared/) knows nothing of the apps on it, and the example app
 * (examples/) is written with the runtime alone: read from the import
 * statements themselves, so that this cannot go stale. The runtime's tests
 * are left out: they drive it through the Task API's functions. The
 * example's tests are not: they are how docs/FUNCTIONS.md says to test.
 */
const root = resolve(import.meta.dirname, '..');

function sources(folder: string): string[] {
  return readdirSync(join(root, folder))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => `${folder}/${file}`);
}

/** Every .ts file under `folder`, its subfolders' too, tests included. */
function allSources(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `${folder}/${file}`)
    .sort();
}

/** Every relative module a file imports or re-exports (type-only imports too), as project paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1] as string);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(root, resolve(dirname(join(root, file)), specifier)));
}

/** The imports of `files` from outside the `allowed` folders, as `file → import`. */
function importsOutside(files: string[], allowed: string[]): string[] {
  return files.flatMap((file) =>
    importsOf(file)
      .filter((to) => !allowed.some((folder) => to.startsWith(folder)))
      .map((to) => `${file} → ${to}`),
  );
}

/** The import cycles among `files` (each as the path that closes it), by depth-first search. */
function cycles(files: string[], imports: (file: string) => string[] = importsOf): string[][] {
  const graph = new Map(files.map((file) => [file, imports(file).filter((to) => files.includes(to))]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      found.push([...path.slice(path.indexOf(file)), file]);
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  return found;
}

describe('the layering of the code', () => {
  const runtime = sources('shared');
  const domain = sources('tasks');
  const example = allSources('examples');

  it('reads the import statements it checks', () => {
    expect(runtime.length).toBeGreaterThan(10);
    expect(importsOf('shared/server.ts')).toContain('shared/router.ts');
    expect(importsOf('tasks/app.ts')).toContain('shared/function.ts');
    expect(example).toContain('examples/greet/greet.test.ts');
    expect(importsOf('examples/greet/greet.test.ts')).toContain('shared/testing.ts');
  });

  it('keeps the runtime to itself: no runtime file imports anything outside shared/', () => {
    expect(importsOutside(runtime, ['shared/'])).toEqual([]);
  });

  it('keeps the Task domain off the functions: tasks/ imports only itself and the runtime', () => {
    expect(importsOutside(domain, ['tasks/', 'shared/'])).toEqual([]);
  });

  it('writes the example app with the runtime alone: examples/ imports only itself and shared/', () => {
    expect(importsOutside(example, ['examples/', 'shared/'])).toEqual([]);
  });

  it('has no import cycle in the runtime, the Task domain, nor the example app', () => {
    expect(cycles(runtime).map((cycle) => cycle.join(' → '))).toEqual([]);
    expect(cycles(domain).map((cycle) => cycle.join(' → '))).toEqual([]);
    expect(cycles(example).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a', 'd'], d: [] };
    expect(cycles(Object.keys(graph), (file) => graph[file] ?? [])).toEqual([['a', 'b', 'c', 'a']]);
    expect(cycles(['c', 'd'], (file) => graph[file] ?? [])).toEqual([]);
  });
});
