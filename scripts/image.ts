/**
 * npm run image -- [app ...] [--rebuild-base | --skip-build]: builds each app's image from
 * the Dockerfile as it is, with buildah, runs it with podman (read-only, as
 * uid 1000) and checks that it answers GET /healthz; prints each image's
 * size, build time and start to its first 200. Default: every app in apps.ts.
 *
 * No registry serves images here, so the Dockerfile's base image
 * (`FROM node:24.21.0-bookworm-slim`, i.e. docker.io/library/node:…) is made
 * locally once and tagged with that name: Debian bookworm minbase from the
 * host's apt sources (mmdebstrap), the Node.js binary of the project's own
 * `node` package, npm from its registry tarball, and a user `node` (uid and
 * gid 1000, home /home/node), as the official image has.
 *
 * Everything lives in its own container storage (vfs driver) under
 * ~/.cache/tasks-on-dapr/image/storage; the flags to reach it are printed.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { apps } from '../apps.ts';
import { docsAssets } from '../shared/docs.ts';
import {
  bytesOnTop,
  debianSources,
  dockerfileBases,
  type ImageLayers,
  manifestLayers,
  mib,
} from './lib/image.ts';
import { ensureCommand } from './lib/infra.ts';
import { freePort, Scope, startProcess } from './lib/processes.ts';

/** The npm that Node.js 24.21.0 ships (its changelog: 24.20.0 upgraded npm to 11.19.0), from the npm registry. */
const NPM_VERSION = '11.19.0';
const RELEASE = 'bookworm';
const PATH_IN_IMAGE = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const root = resolve(import.meta.dirname, '..');
const work = join(homedir(), '.cache', 'tasks-on-dapr', 'image');
const logs = join(work, 'logs');
const storage = [
  '--root',
  join(work, 'storage', 'root'),
  '--runroot',
  join(work, 'storage', 'run'),
  '--storage-driver',
  'vfs',
];
const run = promisify(execFile);
const log = (line: string) => console.log(`[image] ${line}`);

const args = process.argv.slice(2);
const rebuildBase = args.includes('--rebuild-base');
/** Runs the images already built (a run before this one's), without building them again. */
const skipBuild = args.includes('--skip-build');
const names = args.filter((arg) => !arg.startsWith('--'));
const unknown = names.filter((name) => !(name in apps));
if (unknown.length > 0)
  throw new Error(`no such app: ${unknown.join(', ')} (apps: ${Object.keys(apps).join(', ')})`);
const selected = names.length > 0 ? names : Object.keys(apps);

const buildah = await ensureCommand('buildah', 'buildah', log);
const { args: dockerArgs, bases } = dockerfileBases(readFileSync(join(root, 'Dockerfile'), 'utf8'));
if (bases.length !== 1)
  throw new Error(`expected one base image in the Dockerfile, found: ${bases.join(', ')}`);
const base = bases[0] as string;
await mkdir(logs, { recursive: true });

const B = (...rest: string[]) => run(buildah, [...storage, ...rest], { maxBuffer: 64 * 1024 * 1024 });
const hasImage = async (name: string) =>
  (await B('images', '--format', '{{.Name}}:{{.Tag}}')).stdout.split('\n').includes(name);
const layersOf = async (name: string): Promise<ImageLayers> =>
  manifestLayers((await B('inspect', '--type', 'image', '--format', '{{.Manifest}}', name)).stdout);

/**
 * Runs a command to its end with its output in `file`; prints the lines `show` picks as they come,
 * and the last lines when it fails.
 */
async function streamed(command: string, argv: string[], file: string, show: (line: string) => boolean) {
  const child = spawn(command, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(file);
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (line) => {
      out.write(`${line}\n`);
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (show(line)) log(`  ${line}`);
    });
  const code = await new Promise<number | null>((done) => {
    child.on('close', done);
    child.on('error', () => done(null));
  });
  out.end();
  if (code !== 0)
    throw new Error(`${command} ${argv.join(' ')} failed (exit ${code}); ${file}:\n${tail.join('\n')}`);
}

/** The base image: Debian minbase, the project's Node.js binary, npm, user node (1000:1000). */
async function buildBase() {
  const node = join(root, 'node_modules', 'node', 'bin', 'node');
  const version = existsSync(node) ? (await run(node, ['--version'])).stdout.trim() : 'none';
  if (version !== `v${dockerArgs.NODE_VERSION}`)
    throw new Error(
      `the Dockerfile wants Node.js ${dockerArgs.NODE_VERSION}, ${node} is ${version}: npm ci first`,
    );
  const mmdebstrap = await ensureCommand('mmdebstrap', 'mmdebstrap', log);
  const npmTarball = join(work, `npm-${NPM_VERSION}.tgz`);
  if (!existsSync(npmTarball)) {
    log(`npm pack npm@${NPM_VERSION}`);
    await run('npm', ['pack', `npm@${NPM_VERSION}`, '--pack-destination', work], { cwd: work });
  }
  const aptDir = '/etc/apt/sources.list.d';
  const sourceFiles = ['/etc/apt/sources.list', ...readdirSync(aptDir).map((file) => join(aptDir, file))]
    .filter((file) => /\.(list|sources)$/.test(file) && existsSync(file))
    .map((file) => readFileSync(file, 'utf8'));
  const mirrors = debianSources(sourceFiles, RELEASE);
  log(
    `base image ${base}: Debian ${RELEASE} minbase from ${mirrors.join('; ') || "mmdebstrap's default mirror"}`,
  );

  const container = 'tasks-on-dapr-base';
  await B('rm', container).catch(() => undefined);
  await B('from', '--name', container, 'scratch');
  try {
    const rootfs = (await B('mount', container)).stdout.trim();
    // Merged /usr by symlinks (the usrmerge package would bring perl), no docs, man pages or locales, as
    // debian:bookworm-slim leaves out.
    await streamed(
      mmdebstrap,
      [
        '--variant=minbase',
        '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
        ...['man', 'doc', 'locale', 'info'].map((dir) => `--dpkgopt=path-exclude=/usr/share/${dir}/*`),
        '--dpkgopt=path-include=/usr/share/doc/*/copyright',
        RELEASE,
        rootfs,
        ...mirrors,
      ],
      join(logs, 'mmdebstrap.log'),
      (line) => line.startsWith('I: ') || line.startsWith('E: '),
    );
    // mmdebstrap copies the host's; a container runtime mounts its own.
    await rm(join(rootfs, 'etc', 'resolv.conf'), { force: true });
    await rm(join(rootfs, 'etc', 'hostname'), { force: true });
    log(`Node.js ${version} from ${node}, npm ${NPM_VERSION} from ${npmTarball}`);
    const bin = join(rootfs, 'usr', 'local', 'bin');
    const npmDir = join(rootfs, 'usr', 'local', 'lib', 'node_modules', 'npm');
    await mkdir(bin, { recursive: true });
    await mkdir(npmDir, { recursive: true });
    await copyFile(node, join(bin, 'node'));
    await chmod(join(bin, 'node'), 0o755);
    await run('tar', ['-xzf', npmTarball, '-C', npmDir, '--strip-components=1', '--no-same-owner']);
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(bin, 'npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(bin, 'npx'));
    await run('chroot', [rootfs, 'groupadd', '--gid', '1000', 'node']);
    await run('chroot', [
      rootfs,
      'useradd',
      '--uid',
      '1000',
      '--gid',
      'node',
      '--shell',
      '/bin/bash',
      '--create-home',
      'node',
    ]);
    const check = await run('chroot', [rootfs, 'sh', '-c', 'node --version && npm --version && id node'], {
      env: { PATH: PATH_IN_IMAGE },
    });
    log(`  in the image: ${check.stdout.trim().replace(/\n/g, ', ')}`);
    await B('unmount', container);
    await B(
      'config',
      ...['--env', `PATH=${PATH_IN_IMAGE}`, '--env', `NODE_VERSION=${dockerArgs.NODE_VERSION}`],
      ...['--cmd', 'node', '--os', 'linux', '--arch', 'amd64'],
      container,
    );
    await B('commit', '--rm', container, base);
  } catch (error) {
    await B('rm', container).catch(() => undefined);
    throw error;
  }
}

/**
 * The mounts that make RUN npm ci trust what the host's npm trusts (its `cafile`: here, a bundle with
 * the local TLS-inspecting proxy's CA), in the build stage's RUN steps only: none reaches the image.
 */
async function npmCaMounts(): Promise<string[]> {
  const cafile = (await run('npm', ['config', 'get', 'cafile'])).stdout.trim();
  if (!cafile || cafile === 'null' || cafile === 'undefined' || !existsSync(cafile)) return [];
  const npmrc = join(work, 'npmrc');
  await writeFile(npmrc, 'cafile=/usr/local/etc/npm-ca.crt\n');
  return ['-v', `${npmrc}:/usr/local/etc/npmrc:ro`, '-v', `${cafile}:/usr/local/etc/npm-ca.crt:ro`];
}

interface Result {
  app: string;
  image: string;
  total?: number;
  onTop?: number;
  buildMs?: number;
  createMs?: number;
  trueMs?: number;
  healthzMs?: number;
  readyz?: number;
  /** The documents, their pages and the viewers' assets, each a 200 from the image. */
  docs?: string;
  error?: string;
}

/** podman create's flags here: see the README's "The image" for why each. */
const podmanCreate = [
  ...['--runtime', 'runc', '--cgroup-manager', 'cgroupfs', 'create', '--replace', '--read-only'],
  ...[
    '--user',
    '1000:1000',
    '--network',
    'host',
    '--ulimit',
    'nofile=4096:4096',
    '--ulimit',
    'nproc=4096:4096',
  ],
];

/**
 * Creates the container (vfs copies the image's whole file system: timed on its own), then times
 * `podman start --attach` to the first 200 on GET /healthz, beside the start of a container that runs
 * `true` in the same image (to its exit; its removal after is not timed).
 */
async function smokeTest(podman: string, result: Result) {
  const [port, metrics, dapr] = [await freePort(), await freePort(), await freePort()];
  // No daprd: DAPR_HTTP_PORT names a port nothing listens on. The app still serves; /readyz says not ready.
  const env = {
    HOST: '127.0.0.1',
    PORT: port,
    METRICS_PORT: metrics,
    DAPR_HTTP_PORT: dapr,
    APP_ID: result.app,
    APP_API_TOKEN: 'image-smoke-test-app-token',
  };
  const envFlags = Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  const P = (...rest: string[]) => run(podman, [...storage, ...rest]);
  const floor = `tasks-on-dapr-true-${result.app}`;
  await P(...podmanCreate, '--name', floor, result.image, 'true');
  const floorStarted = performance.now();
  await P('start', '--attach', floor);
  result.trueMs = performance.now() - floorStarted;
  await P('rm', floor);

  const name = `tasks-on-dapr-smoke-${result.app}`;
  const created = performance.now();
  await P(...podmanCreate, '--rm', '--name', name, ...envFlags, result.image);
  result.createMs = performance.now() - created;
  const output = join(logs, `run-${result.app}.log`);
  const scope = new Scope();
  try {
    const started = performance.now();
    // SIGTERM to `podman start --attach` reaches the app (podman proxies signals); --rm removes it after.
    const container = startProcess(`image ${result.app}`, podman, [...storage, 'start', '--attach', name], {
      scope,
      cwd: work,
      output,
    });
    for (;;) {
      if (!container.running()) throw new Error(`the container exited; see ${output}`);
      const status = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        })
        .catch(() => 0);
      if (status === 200) break;
      if (performance.now() - started > 60_000) throw new Error('no 200 on /healthz within 60 s');
      await new Promise((done) => setTimeout(done, 5));
    }
    result.healthzMs = performance.now() - started;
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    await readyz.arrayBuffer();
    result.readyz = readyz.status;
    // The documents and their viewers' assets are in the image (dist/docs/ beside the bundle).
    const pages = [
      '/openapi.json',
      '/asyncapi.json',
      '/docs',
      '/docs/events',
      ...docsAssets.map((a) => `/docs/${a}`),
    ];
    const failed: string[] = [];
    for (const path of pages) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      await response.arrayBuffer();
      if (response.status !== 200) failed.push(`${path} ${response.status}`);
    }
    result.docs = failed.length === 0 ? `${pages.length}/${pages.length} 200` : failed.join(', ');
    if (failed.length > 0) throw new Error(`not served from the image: ${failed.join(', ')}`);
  } finally {
    await scope.stop();
  }
}

const results: Result[] = [];
try {
  if (!skipBuild && (rebuildBase || !(await hasImage(base)))) {
    const started = performance.now();
    await buildBase();
    log(`base image built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } else log(`base image ${base}: present (--rebuild-base makes it again)`);
  const baseLayers = await layersOf(base);
  const caMounts = await npmCaMounts();
  if (caMounts.length > 0) log("RUN npm ci trusts the host npm's cafile (mounted in the build stage only)");

  for (const app of selected) {
    const result: Result = { app, image: `localhost/${app}:dev` };
    results.push(result);
    log(`${skipBuild ? 'reading' : 'building'} ${result.image}`);
    const started = performance.now();
    try {
      // --layers: the build stage, the same for every app, is built once (its cache goes at the end);
      // --pull=never: the base is the local one. With chroot isolation RUN shares the host's network.
      if (!skipBuild)
        await streamed(
          buildah,
          [
            ...storage,
            ...['build', '--isolation', 'chroot', '--layers', '--pull=never', ...caMounts],
            ...['--build-arg', `APP=${app}`, '-t', `${app}:dev`, '-f', 'Dockerfile', '.'],
          ],
          join(logs, `build-${app}.log`),
          (line) => / STEP \d+\/\d+: /.test(line) || line.startsWith('Error'),
        );
      if (!skipBuild) result.buildMs = performance.now() - started;
      const layers = await layersOf(result.image);
      result.total = layers.total;
      result.onTop = bytesOnTop(layers, baseLayers);
    } catch (error) {
      result.error = String(error instanceof Error ? error.message : error);
      log(`build of ${app} failed: ${result.error}`);
    }
  }

  const podman = await ensureCommand('podman', 'podman', log);
  await ensureCommand('runc', 'runc', log);
  for (const result of results.filter((r) => !r.error)) {
    log(`running ${result.image} (podman, read-only, uid 1000)`);
    await smokeTest(podman, result).catch((error: unknown) => {
      result.error = String(error instanceof Error ? error.message : error);
      log(`run of ${result.app} failed: ${result.error}`);
    });
  }

  const seconds = (ms?: number) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
  const millis = (ms?: number) => (ms === undefined ? '-' : `${Math.round(ms)} ms`);
  const rows = [
    [
      'app',
      'image',
      'on the base',
      'build',
      'create',
      'start of `true`',
      'start → /healthz 200',
      '/readyz',
      'docs',
    ],
    ...results.map((r) => [
      r.app,
      r.total === undefined ? '-' : mib(r.total),
      r.onTop === undefined ? '-' : mib(r.onTop),
      seconds(r.buildMs),
      millis(r.createMs),
      millis(r.trueMs),
      millis(r.healthzMs),
      r.readyz === undefined ? '-' : String(r.readyz),
      r.docs ?? '-',
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length))) ?? [];
  console.log(
    `\nBase ${base}: ${mib(baseLayers.total)}. Sizes: the sum of each image's layers (uncompressed tars).`,
  );
  for (const row of rows)
    console.log(`  ${row.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ')}`);
  for (const r of results.filter((r) => r.error)) console.log(`  ${r.app}: FAILED: ${r.error}`);
  console.log(`\nThe images: buildah ${storage.join(' ')} images`);
  if (results.some((r) => r.error)) process.exitCode = 1;
} finally {
  // vfs keeps a whole copy of the file system per layer: the build stage's cached layers go (GBs).
  await B('rm', '--all').catch(() => undefined);
  await B('rmi', '--prune').catch(() => undefined);
  const { stdout } = await run('du', ['-sh', join(work, 'storage')]).catch(() => ({ stdout: '? ' }));
  log(`container storage now ${stdout.split('\t')[0]} (${join(work, 'storage')})`);
}
