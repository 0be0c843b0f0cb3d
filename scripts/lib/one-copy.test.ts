import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalCopies, findCopies, oneCopyPlugin } from './one-copy.ts';

/**
 * A node_modules as npm nests it: @x/core 1.0.0 hoisted, an identical 1.0.0
 * nested under @x/a, and a 2.0.0 nested under @x/b. Each copy's index.js
 * exports where it sits, so a bundle shows which copy each import reached.
 */
let dir: string;
const modules = () => join(dir, 'node_modules');
async function pkg(root: string, name: string, version: string, source: string) {
  const file = join(root, name, 'index.js');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(join(root, name, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  await writeFile(file, source);
}
const where = (label: string) => `module.exports = ${JSON.stringify(label)};`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'one-copy-'));
  await pkg(modules(), '@x/core', '1.0.0', where('core 1.0.0 hoisted'));
  await pkg(modules(), '@x/a', '1.0.0', "module.exports = require('@x/core');");
  await pkg(join(modules(), '@x/a/node_modules'), '@x/core', '1.0.0', where('core 1.0.0 under a'));
  await pkg(modules(), '@x/b', '1.0.0', "module.exports = require('@x/core');");
  await pkg(join(modules(), '@x/b/node_modules'), '@x/core', '2.0.0', where('core 2.0.0 under b'));
  await writeFile(
    join(dir, 'entry.js'),
    "console.log(JSON.stringify([require('@x/core'), require('@x/a'), require('@x/b')]));",
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('one-copy (one bundled copy per name@version)', () => {
  it('finds every copy, nested ones too, and picks the least nested of each name@version', () => {
    const copies = findCopies(modules(), '@x');
    const root = modules().split('\\').join('/');
    expect(copies.map((c) => `${c.name}@${c.version} ${c.root.slice(root.length)}`).sort()).toEqual([
      '@x/a@1.0.0 /@x/a',
      '@x/b@1.0.0 /@x/b',
      '@x/core@1.0.0 /@x/a/node_modules/@x/core',
      '@x/core@1.0.0 /@x/core',
      '@x/core@2.0.0 /@x/b/node_modules/@x/core',
    ]);
    const chosen = canonicalCopies(copies);
    expect(chosen.get('@x/core@1.0.0')).toBe(`${root}/@x/core`);
    expect(chosen.get('@x/core@2.0.0')).toBe(`${root}/@x/b/node_modules/@x/core`);
  });

  it('does not depend on the order the copies are found in', () => {
    const copies = findCopies(modules(), '@x');
    expect([...canonicalCopies([...copies].reverse())].sort()).toEqual([...canonicalCopies(copies)].sort());
  });

  it('bundles the identical copy once; a different version stays apart', async () => {
    const build = (plugins: esbuild.Plugin[]) =>
      esbuild.build({
        entryPoints: [join(dir, 'entry.js')],
        absWorkingDir: dir,
        bundle: true,
        write: false,
        platform: 'node',
        format: 'cjs',
        logLevel: 'silent',
        plugins,
      });
    const run = (result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] }) => {
      const logged: string[] = [];
      new Function('console', result.outputFiles[0]?.text ?? '')({
        log: (line: string) => logged.push(line),
      });
      return JSON.parse(logged[0] ?? 'null');
    };

    const without = await build([]);
    expect(run(without)).toEqual(['core 1.0.0 hoisted', 'core 1.0.0 under a', 'core 2.0.0 under b']);
    const deduped = await build([oneCopyPlugin({ nodeModules: modules(), scope: '@x' })]);
    expect(run(deduped)).toEqual(['core 1.0.0 hoisted', 'core 1.0.0 hoisted', 'core 2.0.0 under b']);
    expect(deduped.outputFiles[0]?.text).not.toContain('under a');
  });
});
