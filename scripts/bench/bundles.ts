/**
 * The bundles in dist/ (npm run build): size, start (process spawn → first
 * 200 on GET /healthz, median of 5) beside a bare node:http server started
 * the same way in the same run (the image CMD's `node` flags, the pod's
 * NODE_OPTIONS), and RSS after a warm-up and after 10,000
 * requests. /healthz is liveness: the router answers it without daprd, so
 * each bundle runs alone (its DAPR_HTTP_PORT has nothing listening; the
 * secret watch retries in the background, as it does while daprd starts).
 *   npx node scripts/bench/bundles.ts            # prints the table
 *   npx node scripts/bench/bundles.ts --smoke    # 1 start, 200 requests each; asserts no timing
 *   BUNDLES_DIR=/tmp/old-dist npx node scripts/bench/bundles.ts   # another build's bundles
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployedNodeOptions } from '../../deploy/manifests.ts';
import { projectNodeFlags } from '../lib/image.ts';
import { freePort, Scope } from '../lib/processes.ts';
import { projectRoot } from '../lib/stack.ts';
import type { BenchContext, BenchSection, Section } from './section.ts';

/** NODE_OPTIONS of every process measured, the bare server's and the bundles' alike: the heap of the app's pod (deploy/). */
const nodeOptions = deployedNodeOptions();
/** The image's `node` flags (its CMD), for every process measured: `--enable-source-maps` reads each bundle's map. */
const nodeFlags = projectNodeFlags();

const bareServer = `import { createServer } from 'node:http';
createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end('{"status":"ok"}');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** The resident set of a running process, from /proc (Linux), in bytes. */
function rss(pid: number): number {
  const kib = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB$/m)?.[1];
  if (!kib) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kib) * 1024;
}

interface Running {
  child: ChildProcess;
  port: number;
  /** Spawn to the first 200 on /healthz, in ms. */
  startMs: number;
}

/** Spawns `file` and polls GET /healthz until it answers 200; the clock starts just before the spawn. */
async function start(scope: Scope, file: string, logFile: string): Promise<Running> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    DAPR_HTTP_PORT: String(await freePort()),
    APP_API_TOKEN: 'bench-bundles-app-token',
    APP_ID: 'bench',
    NODE_OPTIONS: nodeOptions,
  };
  let child: ChildProcess | undefined;
  scope.add({
    stop: async () => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  });
  const log = openSync(logFile, 'a');
  const started = performance.now();
  child = spawn(process.execPath, [...nodeFlags, file], { env, stdio: ['ignore', log, log] });
  closeSync(log);
  const url = `http://127.0.0.1:${port}/healthz`;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${file} exited (${child.exitCode}) before answering; see ${logFile}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) {
        const startMs = performance.now() - started;
        return { child, port, startMs };
      }
    } catch {}
    if (performance.now() - started > 30_000) throw new Error(`${file} did not answer /healthz in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** `count` GET /healthz, 8 at a time; throws on anything but 200. */
async function load(port: number, count: number) {
  const url = `http://127.0.0.1:${port}/healthz`;
  let left = count;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (left-- > 0) {
        const response = await fetch(url);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
      }
    }),
  );
}

interface Measured {
  name: string;
  bytes?: number;
  startsMs: number[];
  /** The bare server's starts, one just before each of this bundle's: its own floor, under the same load. */
  besideMs: number[];
  warmRss: number;
  loadedRss: number;
}

async function measure(
  ctx: BenchContext,
  name: string,
  file: string,
  dir: string,
  bare?: string,
): Promise<Measured> {
  const starts = ctx.smoke ? 1 : 5;
  const [warm, total] = ctx.smoke ? [100, 200] : [500, 10_000];
  const startsMs: number[] = [];
  const besideMs: number[] = [];
  let rssFigures: [number, number] = [0, 0];
  for (let i = 0; i < starts; i++) {
    const scope = new Scope(ctx.scope);
    try {
      if (bare) {
        const floor = new Scope(ctx.scope);
        try {
          besideMs.push((await start(floor, bare, join(dir, 'node-http.log'))).startMs);
        } finally {
          await floor.stop();
        }
      }
      const running = await start(scope, file, join(dir, `${name}.log`));
      startsMs.push(running.startMs);
      if (i === starts - 1) {
        // The last start stays up for the memory figures.
        await load(running.port, warm);
        const warmRss = rss(running.child.pid ?? 0);
        await load(running.port, total - warm);
        rssFigures = [warmRss, rss(running.child.pid ?? 0)];
      }
    } finally {
      await scope.stop();
    }
  }
  return { name, startsMs, besideMs, warmRss: rssFigures[0], loadedRss: rssFigures[1] };
}

export const bundles: BenchSection = async (ctx) => {
  // BUNDLES_DIR: another build's bundles (e.g. a before/after comparison).
  const dist = process.env.BUNDLES_DIR ?? join(projectRoot, 'dist');
  const files = existsSync(dist) ? (await readdir(dist)).filter((file) => file.endsWith('.mjs')).sort() : [];
  if (files.length === 0) throw new Error('no bundles in dist/: run npm run build first');
  const dir = join(ctx.workDir, 'bundles');
  await mkdir(dir, { recursive: true });
  const bare = join(dir, 'bare-http.mjs');
  await writeFile(bare, bareServer);

  ctx.log('bundles: bare node:http');
  const floor = await measure(ctx, 'node:http', bare, dir);
  const rows: Measured[] = [];
  for (const file of files) {
    const name = file.replace(/\.mjs$/, '');
    ctx.log(`bundles: ${name}`);
    const measured = await measure(ctx, name, join(dist, file), dir, bare);
    rows.push({ ...measured, bytes: (await stat(join(dist, file))).size });
  }

  // Each bundle against the bare starts interleaved with its own (the load on a shared machine drifts over a run).
  const floorOf = (m: Measured) => median(m.besideMs.length > 0 ? m.besideMs : floor.startsMs);
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const [warm, total] = ctx.smoke ? [100, 200] : [500, 10_000];
  const line = (m: Measured) => [
    m.bytes === undefined ? 'node:http (bare)' : `${m.name}.mjs`,
    m.bytes === undefined ? '-' : (m.bytes / 1024).toFixed(1),
    median(m.startsMs).toFixed(0),
    m.besideMs.length > 0 ? median(m.besideMs).toFixed(0) : '-',
    (median(m.startsMs) / floorOf(m)).toFixed(2),
    mib(m.warmRss),
    mib(m.loadedRss),
  ];
  const section: Section = {
    title: `Bundles: size, start to first 200 on /healthz${ctx.smoke ? ' (smoke: timings not meaningful)' : ''}`,
    columns: [
      'bundle',
      'size KiB',
      `start ms (median of ${floor.startsMs.length})`,
      'node:http beside',
      '× node:http',
      `RSS MiB after ${warm}`,
      `RSS MiB after ${total.toLocaleString('en')}`,
    ],
    rows: [line(floor), ...rows.map(line)],
    notes: [
      'start: spawn of the process to its first 200 on GET /healthz (polled every 2 ms), with no daprd: /healthz is liveness and needs none.',
      `× node:http divides by the median start of a bare node:http server answering /healthz, started the same way (same node, the image CMD's flags ${nodeFlags.join(' ')}, NODE_OPTIONS of deploy/base's tasks-api Deployment: ${nodeOptions}) just before each of that bundle's starts ("node:http beside"; the first row: its own ${floor.startsMs.length} starts, with the RSS figures).`,
      `RSS: /proc VmRSS after ${warm} and after ${total} GET /healthz (8 at a time) on the last start.`,
    ],
  };
  return [section];
};

/** Prints a section as an aligned text table. */
function formatSection(section: Section): string {
  const all = [section.columns, ...section.rows];
  const widths = section.columns.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const format = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [
    section.title,
    format(section.columns),
    ...section.rows.map(format),
    ...(section.notes ?? []).map((n) => `  ${n}`),
  ].join('\n');
}

if (import.meta.main) {
  const smoke = process.argv.includes('--smoke');
  const scope = new Scope();
  const workDir = await mkdtemp(join(tmpdir(), 'bench-bundles-'));
  try {
    const sections = await bundles({
      profile: 'embedded',
      smoke,
      scope,
      workDir,
      log: (line) => console.error(line),
    });
    for (const section of sections) console.log(`${formatSection(section)}\n`);
  } finally {
    await scope.stop();
  }
}
