import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The runtime (shared/) knows nothing of the apps on it: read from the import
 * statements themselves, so that this cannot go stale. Tests are left out:
 * the runtime's tests drive it through the Task API's functions.
 */
const root = resolve(import.meta.dirname, '..');

function sources(folder: string): string[] {
  return readdirSync(join(root, folder))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => `${folder}/${file}`);
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

  it('reads the import statements it checks', () => {
    expect(runtime.length).toBeGreaterThan(10);
    expect(importsOf('shared/server.ts')).toContain('shared/router.ts');
    expect(importsOf('tasks/app.ts')).toContain('shared/function.ts');
  });

  it('keeps the runtime to itself: no runtime file imports anything outside shared/', () => {
    const outside = runtime.flatMap((file) =>
      importsOf(file)
        .filter((to) => !to.startsWith('shared/'))
        .map((to) => `${file} → ${to}`),
    );
    expect(outside).toEqual([]);
  });

  it('keeps the Task domain off the functions: tasks/ imports only itself and the runtime', () => {
    const outside = domain.flatMap((file) =>
      importsOf(file)
        .filter((to) => !to.startsWith('tasks/') && !to.startsWith('shared/'))
        .map((to) => `${file} → ${to}`),
    );
    expect(outside).toEqual([]);
  });

  it('has no import cycle in the runtime, nor in the Task domain', () => {
    expect(cycles(runtime).map((cycle) => cycle.join(' → '))).toEqual([]);
    expect(cycles(domain).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a', 'd'], d: [] };
    expect(cycles(Object.keys(graph), (file) => graph[file] ?? [])).toEqual([['a', 'b', 'c', 'a']]);
    expect(cycles(['c', 'd'], (file) => graph[file] ?? [])).toEqual([]);
  });
});
