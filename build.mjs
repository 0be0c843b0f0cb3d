/**
 * npm run build: one self-contained ESM bundle per app and per function in
 * dist/, plus dist/all.mjs (every function as one app: the embedded default).
 * Each bundle imports only its own functions, so esbuild leaves out the rest;
 * the OpenTelemetry exporters, propagators and loaders NodeSDK requires but
 * never uses here get a stand-in that throws (scripts/lib/left-out.ts).
 *   node dist/tasks-api.mjs      # what the tasks-api Deployment runs
 *   node build.mjs --analyze     # also: what is big in each bundle (esbuild's metafile)
 *   node build.mjs getTask       # only these bundles (dist/ is kept)
 */
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { allFunctions, apps } from './apps.ts';
import { leftOutPlugin } from './scripts/lib/left-out.ts';
import { oneCopyPlugin } from './scripts/lib/one-copy.ts';
import { docsAssetSources } from './shared/docs.ts';

const root = import.meta.dirname;
const outdir = join(root, 'dist');

const args = process.argv.slice(2);
const analyze = args.includes('--analyze');
const only = args.filter((arg) => !arg.startsWith('--'));

/** @type {Array<[name: string, functions: string[]]>} */
const allUnits = [
  ['all', allFunctions.map((fn) => fn.name)],
  ...Object.entries(apps).map(([name, fns]) => [name, fns.map((fn) => fn.name)]),
  ...allFunctions.map((fn) => [fn.name, [fn.name]]),
];
const units = only.length > 0 ? allUnits.filter(([name]) => only.includes(name)) : allUnits;
if (units.length < only.length) throw new Error(`no such bundle: ${only.join(', ')}`);

function entry(name, functions) {
  const imports = functions.map((fn) => `import { ${fn} } from './functions/${fn}/index.ts';`).join('\n');
  return `import { serve } from './shared/server.ts';\nimport { taskApp } from './tasks/app.ts';\n${imports}\nserve({ name: ${JSON.stringify(name)}, app: taskApp, functions: [${functions.join(', ')}] });\n`;
}

if (only.length === 0) await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const started = performance.now();
const results = await Promise.all(
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
      sourcesContent: false,
      legalComments: 'none',
      // Some dependencies are CommonJS and call require(); give the ESM bundle one.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
      logLevel: 'warning',
      metafile: analyze,
      plugins: [leftOutPlugin(), oneCopyPlugin({ nodeModules: join(root, 'node_modules') })],
    }),
  ),
);

// GET /docs and /docs/events serve their viewers' assets from dist/docs/, beside the bundles (shared/docs.ts).
await mkdir(join(outdir, 'docs'), { recursive: true });
for (const { name, from } of docsAssetSources()) await copyFile(from, join(outdir, 'docs', name));

const rows = [];
for (const [name, functions] of units) {
  const { size } = await stat(join(outdir, `${name}.mjs`));
  rows.push([`dist/${name}.mjs`, `${(size / 1024).toFixed(1)} KiB`, functions.join(', ')]);
}
const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i].length)));
console.log(`Built ${rows.length} bundles in ${Math.round(performance.now() - started)} ms:`);
for (const [file, size, functions] of rows)
  console.log(`  ${file.padEnd(widths[0])}  ${size.padStart(widths[1])}  ${functions}`);

if (analyze) {
  // Bytes in each output by package (or project directory), largest first.
  for (const [i, [name]] of units.entries()) {
    const [, output] = Object.entries(results[i].metafile.outputs).find(([file]) => file.endsWith('.mjs'));
    const byPackage = new Map();
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg =
        file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)(?!.*node_modules)/)?.[1] ?? file.split('/')[0];
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
    }
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15);
    console.log(`\ndist/${name}.mjs: ${(output.bytes / 1024).toFixed(1)} KiB`);
    for (const [pkg, bytes] of top) console.log(`  ${(bytes / 1024).toFixed(1).padStart(7)} KiB  ${pkg}`);
  }
}
