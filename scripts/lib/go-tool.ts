import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const tools = resolve(import.meta.dirname, '../../tools');

export interface GoTool {
  /** The wrapper module's folder under tools/ (or an absolute path). */
  dir: string;
  /** The binary's name in ~/.cache/tasks-on-dapr/bin (a digest of the module's files is added). */
  name: string;
  /** The package to build: `.` for the module's own main, or a path from its requirements. */
  target: string;
  /** The module's files whose contents decide when to rebuild. */
  files: string[];
  /** Where a build (on first use, and when the files change) says what it does. */
  log?: (line: string) => void;
  /** Said once before a build. */
  announce?: string;
}

/** The builds under way in this process, by output path: a second caller waits for the first's. */
const building = new Map<string, Promise<string>>();

/**
 * A Go program built with the Go toolchain from the module proxy, from a
 * small wrapper module in tools/, into ~/.cache/tasks-on-dapr/bin; rebuilt
 * only when the wrapper's files change. Nothing built is committed. Callers
 * at the same time (two kustomize builds in one Promise.all) share one build.
 */
export async function goToolBinary(tool: GoTool): Promise<string> {
  const module = resolve(tools, tool.dir);
  const digest = createHash('sha256');
  for (const file of tool.files) digest.update(readFileSync(join(module, file)));
  const dir = join(homedir(), '.cache', 'tasks-on-dapr', 'bin');
  const binary = join(dir, `${tool.name}-${digest.digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  const pending = building.get(binary);
  if (pending) return pending;
  const log = tool.log ?? (() => {});
  const build = (async () => {
    if (tool.announce) log(tool.announce);
    await mkdir(dir, { recursive: true });
    await goBuild({ cwd: module, pkg: tool.target, ldflags: '-s -w', output: binary, label: tool.name, log });
    return binary;
  })().finally(() => building.delete(binary));
  building.set(binary, build);
  return build;
}

export interface GoBuild {
  cwd: string;
  pkg: string;
  ldflags: string;
  tags?: string | undefined;
  output: string;
  /** What the progress lines name. */
  label: string;
  log: (line: string) => void;
}

/**
 * `go build` into a partial file renamed into place once done, so a build cut
 * short leaves nothing that looks built. No time limit (a cold build on a busy
 * 2-core machine has taken over 20 minutes): a line of progress every 15 s
 * instead, and go's last output when it fails.
 */
export async function goBuild({ cwd, pkg, ldflags, tags, output, label, log }: GoBuild): Promise<void> {
  const started = Date.now();
  const partial = `${output}.partial-${process.pid}`;
  const args = ['build', '-v', '-mod=readonly', '-trimpath', '-ldflags', ldflags, '-o', partial];
  if (tags) args.push('-tags', tags);
  args.push(pkg);
  let packages = 0;
  let lastLines = '';
  const child = spawn('go', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    packages += chunk.split('\n').filter((line) => line && !line.startsWith('go: downloading')).length;
    lastLines = (lastLines + chunk).slice(-4000);
  });
  const seconds = () => Math.round((Date.now() - started) / 1000);
  const ticker = setInterval(
    () => log(`building ${label}: ${packages} packages compiled, ${seconds()}s`),
    15_000,
  );
  const code = await new Promise<number | null>((done) => {
    child.on('close', done);
    child.on('error', () => done(null));
  });
  clearInterval(ticker);
  if (code !== 0) throw new Error(`go build of ${label} failed (exit ${code}):\n${lastLines}`);
  await rename(partial, output);
  log(`built ${label} in ${seconds()}s`);
}
