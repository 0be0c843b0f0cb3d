/**
 * npm run build: one self-contained ESM bundle per app and per function in
 * dist/, plus dist/all.mjs (every function as one app: the embedded default).
 * Each bundle imports only its own functions, so esbuild leaves out the rest.
 *   node dist/tasks-api.mjs      # what the tasks-api Deployment runs
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { allFunctions, apps } from './apps.ts';

const root = import.meta.dirname;
const outdir = join(root, 'dist');

/** @type {Array<[name: string, functions: string[]]>} */
const units = [
  ['all', allFunctions.map((fn) => fn.name)],
  ...Object.entries(apps).map(([name, fns]) => [name, fns.map((fn) => fn.name)]),
  ...allFunctions.map((fn) => [fn.name, [fn.name]]),
];

function entry(name, functions) {
  const imports = functions.map((fn) => `import { ${fn} } from './functions/${fn}/index.ts';`).join('\n');
  return `import { serve } from './shared/server.ts';\n${imports}\nserve({ name: ${JSON.stringify(name)}, functions: [${functions.join(', ')}] });\n`;
}

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const started = performance.now();
await Promise.all(
  units.map(([name, functions]) =>
    esbuild.build({
      stdin: {
        contents: entry(name, functions),
        resolveDir: root,
        sourcefile: `${name}.entry.ts`,
        loader: 'ts',
      },
      outfile: join(outdir, `${name}.mjs`),
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      sourcemap: 'linked',
      legalComments: 'none',
      // Some dependencies are CommonJS and call require(); give the ESM bundle one.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
      logLevel: 'warning',
    }),
  ),
);

const rows = [];
for (const [name, functions] of units) {
  const { size } = await stat(join(outdir, `${name}.mjs`));
  rows.push([`dist/${name}.mjs`, `${(size / 1024).toFixed(1)} KiB`, functions.join(', ')]);
}
const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i].length)));
console.log(`Built ${rows.length} bundles in ${Math.round(performance.now() - started)} ms:`);
for (const [file, size, functions] of rows)
  console.log(`  ${file.padEnd(widths[0])}  ${size.padStart(widths[1])}  ${functions}`);
