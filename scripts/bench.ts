/**
 * npm run bench: the API measured against its floor, on each profile, every
 * figure side by side with the floor measured in the same run on the same
 * machine (issue 13). Runs the sections below on each profile, prints one
 * table per section and rewrites that profile's block of docs/PERFORMANCE.md
 * (between `<!-- bench:begin <profile> -->` and `<!-- bench:end -->`; the
 * rest of the file is hand-written and kept).
 *   npm run bench                                        # every section on every profile
 *   npm run bench -- --profile embedded --section routes # some of them
 *   npm run bench -- --smoke --profile embedded          # every path, a few requests each, no timing asserted
 *   BENCH_SECONDS=10 npm run bench                       # longer cells (default 5 s)
 * --smoke prints its tables but leaves docs/PERFORMANCE.md alone (its numbers mean nothing).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { bundles } from './bench/bundles.ts';
import { events } from './bench/events.ts';
import { defaultPreamble, formatSection, mergeBlocks } from './bench/report.ts';
import { routes } from './bench/routes.ts';
import type { BenchSection, Section } from './bench/section.ts';
import { daprBinDir } from './lib/dapr-runtime.ts';
import { Scope } from './lib/processes.ts';
import { type Profile, profiles, projectRoot } from './lib/stack.ts';

/** The sections, in the order they run on each profile; each a BenchSection under its own name. */
const sections: Array<{ name: string; run: BenchSection }> = [
  { name: 'routes', run: routes },
  { name: 'events', run: events },
  { name: 'bundles', run: bundles },
];

const { values: args } = parseArgs({
  options: {
    profile: { type: 'string', multiple: true },
    section: { type: 'string', multiple: true },
    smoke: { type: 'boolean', default: false },
  },
});
const list = (values: string[] | undefined) => values?.flatMap((v) => v.split(',')).map((v) => v.trim());
const chosenProfiles = (list(args.profile) ?? profiles) as Profile[];
const chosenSections = list(args.section) ?? sections.map((s) => s.name);
for (const profile of chosenProfiles)
  if (!profiles.includes(profile))
    throw new Error(`--profile ${profile} is not one of ${profiles.join(', ')}`);
for (const name of chosenSections)
  if (!sections.some((s) => s.name === name))
    throw new Error(`--section ${name} is not one of ${sections.map((s) => s.name).join(', ')}`);
const smoke = args.smoke;

const run = promisify(execFile);
const began = performance.now();
const log = (line: string) =>
  console.log(`▶ ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s: ${line}`);

/** Where and with what this run measures; read at the start, the load average above all. */
async function machine() {
  const cores = cpus();
  const [one, five, fifteen] = loadavg().map((l) => l.toFixed(2));
  return {
    cpu: `${cores[0]?.model.trim() ?? 'unknown CPU'}, ${cores.length} cores`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at the start)`,
    load: `${one} / ${five} / ${fifteen} (1 / 5 / 15 min, at the start)`,
    node: process.version,
  };
}

async function daprdVersion(): Promise<string> {
  const daprd = join(daprBinDir(), 'daprd');
  if (!existsSync(daprd)) return 'unknown (no daprd yet)';
  return (await run(daprd, ['--version'])).stdout.trim();
}

const started = new Date();
const host = await machine();
const shellWord = (arg: string) => (/^[\w=,./-]+$/.test(arg) ? arg : `'${arg}'`);
const command = [
  ...(process.env.BENCH_SECONDS ? [`BENCH_SECONDS=${shellWord(process.env.BENCH_SECONDS)}`] : []),
  'npm run bench',
  ...(process.argv.length > 2 ? ['--'] : []),
  ...process.argv.slice(2).map(shellWord),
].join(' ');
const workDir = await mkdtemp(join(tmpdir(), 'tasks-bench-'));
// mkdtemp's directory is private (0700); the postgres server's user must reach its data below it.
await chmod(workDir, 0o755);
const scope = new Scope();
// Ctrl-C: stop what the run started before leaving (the scope stops each process in order).
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void scope.stop().finally(() => process.exit(130)));
const results = new Map<Profile, Section[]>();
let failed = false;
try {
  for (const profile of chosenProfiles) {
    const tables: Section[] = [];
    for (const section of sections.filter((s) => chosenSections.includes(s.name))) {
      log(`${profile}: ${section.name}${smoke ? ' (smoke)' : ''}`);
      const sectionScope = new Scope(scope);
      try {
        const made = await section.run({
          profile,
          smoke,
          scope: sectionScope,
          workDir: join(workDir, profile, section.name),
          log: (line) => log(`${profile} ${section.name}: ${line}`),
        });
        for (const table of made)
          console.log(`\n${formatSection({ ...table, title: `${table.title} (${profile})` })}\n`);
        tables.push(...made);
      } finally {
        await sectionScope.stop();
      }
    }
    results.set(profile, tables);
  }

  const versions = { daprd: await daprdVersion() };
  const blocks = new Map<string, string>();
  for (const [profile, tables] of results) {
    blocks.set(
      profile,
      [
        `## ${profile}`,
        '',
        `Measured ${started.toISOString().replace(/\.\d+Z$/, 'Z')} with \`${command}\` on ${host.cpu}, ` +
          `${host.memory}; load average ${host.load}; Node.js ${host.node}, daprd ${versions.daprd}. ` +
          'The load generator, the app, daprd and the store all run on this machine.',
        '',
        ...tables.map((table) => `${formatSection(table)}\n`),
      ].join('\n'),
    );
  }
  if (smoke) log('smoke run: docs/PERFORMANCE.md left as it is');
  else {
    const file = join(projectRoot, 'docs', 'PERFORMANCE.md');
    const before = existsSync(file) ? await readFile(file, 'utf8') : defaultPreamble;
    await writeFile(file, mergeBlocks(before, blocks));
    // In the project's own Markdown format (table widths, emphasis), so `npm run lint` passes on it.
    await run(join(projectRoot, 'node_modules', '.bin', 'biome'), ['format', '--write', file]);
    log(`wrote ${file} (${[...blocks.keys()].join(', ')})`);
  }
} catch (error) {
  failed = true;
  console.error(`\nbench failed: ${(error as Error).stack ?? error}`);
} finally {
  await scope.stop().catch((error: unknown) => {
    failed = true;
    console.error(`stopping: ${(error as Error).message}`);
  });
  if (failed || process.env.KEEP_TEST_DATA) console.log(`  data and logs: ${workDir}`);
  else await rm(workDir, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}
