/**
 * npm run build: one self-contained ESM bundle per app and per function of
 * each suite below, plus `all` (every function of the suite as one app: the
 * Task API's is the embedded default). Each bundle imports only its own
 * functions, so esbuild leaves out the rest; the OpenTelemetry exporters,
 * propagators and loaders NodeSDK requires but never uses here get a
 * stand-in that throws (scripts/lib/left-out.ts). Each bundle's source map
 * maps the project's code exactly and a dependency's to its file only
 * (scripts/lib/source-map-trim.ts).
 *   node dist/tasks-api.mjs      # what the tasks-api Deployment runs
 *   node build.mjs --analyze     # also: what is big in each bundle (esbuild's metafile)
 *   node build.mjs getTask examples/greet   # only these bundles (dist/ is kept)
 *   node build.mjs --suite=tasks            # only the Task API's (what the Dockerfile builds)
 */
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { leftOutPlugin } from './scripts/lib/left-out.ts';
import { oneCopyPlugin } from './scripts/lib/one-copy.ts';
import { trimSourceMap } from './scripts/lib/source-map-trim.ts';
import { allFunctionsOf } from './shared/app.ts';
import { docsAssetSources } from './shared/docs.ts';

const root = import.meta.dirname;

/**
 * What is built: an app on the runtime is its AppDefinition (module and
 * export), its app table (the module exporting `apps`) and the folder whose
 * `<name>/index.ts` exports each function `<name>`; its bundles go to `outdir`.
 * An app of your own is one more entry here.
 */
const allSuites = {
  tasks: { app: ['./tasks/app.ts', 'taskApp'], table: './apps.ts', functions: './functions', outdir: 'dist' },
  examples: {
    app: ['./examples/app.ts', 'greetingApp'],
    table: './examples/apps.ts',
    functions: './examples',
    outdir: 'dist/examples',
  },
};

const args = process.argv.slice(2);
const analyze = args.includes('--analyze');
const only = args.filter((arg) => !arg.startsWith('--'));
// --suite=<name> (repeatable): only those suites; the Dockerfile builds the Task API's alone.
const suiteNames = args
  .filter((arg) => arg.startsWith('--suite='))
  .map((arg) => arg.slice('--suite='.length));
for (const name of suiteNames)
  if (!Object.hasOwn(allSuites, name))
    throw new Error(`no suite ${name} (suites: ${Object.keys(allSuites).join(', ')})`);
const suites = suiteNames.length > 0 ? suiteNames.map((name) => allSuites[name]) : Object.values(allSuites);

/** @type {Array<{ name: string, functions: string[], suite: (typeof suites)[number] }>} */
const allUnits = [];
for (const suite of suites) {
  const { apps } = await import(suite.table);
  const names = (fns) => fns.map((fn) => fn.name);
  allUnits.push(
    { name: 'all', functions: names(allFunctionsOf(apps)), suite },
    ...Object.entries(apps).map(([name, fns]) => ({ name, functions: names(fns), suite })),
    ...allFunctionsOf(apps).map((fn) => ({ name: fn.name, functions: [fn.name], suite })),
  );
}
// A bundle's id is its file under dist/ without .mjs: `getTask`, `examples/greet`.
const idOf = (unit) => join(unit.suite.outdir, unit.name).replace(/^dist\//, '');
const units = only.length > 0 ? allUnits.filter((unit) => only.includes(idOf(unit))) : allUnits;
if (units.length < only.length) throw new Error(`no such bundle: ${only.join(', ')}`);

function entry({ name, functions, suite }) {
  const [appModule, appExport] = suite.app;
  const imports = functions
    .map((fn) => `import { ${fn} } from '${suite.functions}/${fn}/index.ts';`)
    .join('\n');
  return `import { serve } from './shared/server.ts';\nimport { ${appExport} } from '${appModule}';\n${imports}\nserve({ name: ${JSON.stringify(name)}, app: ${appExport}, functions: [${functions.join(', ')}] });\n`;
}

// A full build starts each suite's folder afresh: its bundles, maps and docs/ (another suite's folder inside stays).
if (only.length === 0)
  for (const { outdir } of suites)
    for (const file of await readdir(join(root, outdir), { withFileTypes: true }).catch(() => []))
      if (file.isFile() || file.name === 'docs') await rm(join(root, outdir, file.name), { recursive: true });
const outdirs = [...new Set(units.map((u) => join(root, u.suite.outdir)))];
for (const dir of outdirs) await mkdir(dir, { recursive: true });
const started = performance.now();
const results = await Promise.all(
  units.map((unit) =>
    esbuild.build({
      stdin: {
        contents: entry(unit),
        resolveDir: root,
        sourcefile: `${unit.name}.entry.ts`,
        loader: 'ts',
      },
      outfile: join(root, unit.suite.outdir, `${unit.name}.mjs`),
      bundle: true,
      platform: 'node',
      // A package's ES module build where it has one: esbuild drops what nothing imports (Node resolves `main`, the CommonJS build).
      mainFields: ['module', 'main'],
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

// Each map keeps the project's own code whole and a dependency's by file only: the image decodes it at its first stack trace.
await Promise.all(
  units.map(async (unit) => {
    const file = join(root, unit.suite.outdir, `${unit.name}.mjs.map`);
    const map = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify(trimSourceMap(map, (source) => !source.includes('node_modules/'))));
  }),
);

// GET /docs and /docs/events serve their viewers' assets from dist/docs/, beside the bundles (shared/docs.ts).
for (const dir of outdirs) {
  await mkdir(join(dir, 'docs'), { recursive: true });
  for (const { name, from } of docsAssetSources()) await copyFile(from, join(dir, 'docs', name));
}

const rows = [];
for (const { name, functions, suite } of units) {
  const { size } = await stat(join(root, suite.outdir, `${name}.mjs`));
  rows.push([`${suite.outdir}/${name}.mjs`, `${(size / 1024).toFixed(1)} KiB`, functions.join(', ')]);
}
const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i].length)));
console.log(`Built ${rows.length} bundles in ${Math.round(performance.now() - started)} ms:`);
for (const [file, size, functions] of rows)
  console.log(`  ${file.padEnd(widths[0])}  ${size.padStart(widths[1])}  ${functions}`);

if (analyze) {
  // Bytes in each output by package (or project directory), largest first.
  for (const [i, { name, suite }] of units.entries()) {
    const [, output] = Object.entries(results[i].metafile.outputs).find(([file]) => file.endsWith('.mjs'));
    const byPackage = new Map();
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg =
        file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)(?!.*node_modules)/)?.[1] ?? file.split('/')[0];
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
    }
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15);
    console.log(`\n${suite.outdir}/${name}.mjs: ${(output.bytes / 1024).toFixed(1)} KiB`);
    for (const [pkg, bytes] of top) console.log(`  ${(bytes / 1024).toFixed(1).padStart(7)} KiB  ${pkg}`);
  }
}
