import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { goBuild } from './go-tool.ts';

/**
 * The Dapr binaries, provisioned offline at one pinned version in the layout
 * of `dapr init --slim` (~/.dapr/bin, or $DAPR_INSTALL_DIR/bin). Binaries
 * already there at the pinned version are used as they are; otherwise they
 * are built with the Go toolchain from the Go module proxy (tools/dapr,
 * tools/dapr-cli). v1.18.2 is the newest 1.18 runtime whose whole module
 * graph the reachable proxy serves.
 */
export const DAPR_RUNTIME_VERSION = '1.18.2';
export const DAPR_CLI_VERSION = '1.16.5';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

export function daprBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DAPR_INSTALL_DIR ?? join(homedir(), '.dapr'), 'bin');
}

/** What a stack runs: the sidecar and the scheduler. */
export interface DaprBinaries {
  daprd: string;
  scheduler: string;
}

interface Binary {
  name: keyof DaprBinaries | 'cli';
  file: string;
  module: string;
  pkg: string;
  ldflags: string;
  tags?: string;
  /** True when the installed binary is at the pinned version. */
  current: (path: string) => Promise<boolean>;
}

const runtimeLdflags = `-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_RUNTIME_VERSION}`;

const binaries: Binary[] = [
  {
    name: 'daprd',
    file: 'daprd',
    module: 'tools/dapr',
    // The official sidecar's main, with every stable component: what a cluster's injector runs.
    pkg: 'github.com/dapr/dapr/cmd/daprd',
    tags: 'stablecomponents',
    ldflags: runtimeLdflags,
    current: async (path) =>
      (await output(path, ['--version'])) === DAPR_RUNTIME_VERSION &&
      // Not a build with components of its own (this project had one): the Go build info names the main package.
      !(await output('go', ['version', '-m', path])).match(
        /^\s*path\s+(?!github\.com\/dapr\/dapr\/cmd\/daprd$)\S+$/m,
      ),
  },
  {
    name: 'scheduler',
    file: 'scheduler',
    module: 'tools/dapr',
    pkg: 'github.com/dapr/dapr/cmd/scheduler',
    ldflags: runtimeLdflags,
    // The scheduler has no --version; its Go build info names the version it was built at.
    current: async (path) => {
      const info = await output('go', ['version', '-m', path]);
      return (
        info.includes(`buildinfo.version=${DAPR_RUNTIME_VERSION}`) ||
        new RegExp(`(?:mod|dep)\\s+github\\.com/dapr/dapr\\s+v${DAPR_RUNTIME_VERSION}\\b`).test(info)
      );
    },
  },
  {
    name: 'cli',
    file: 'dapr',
    module: 'tools/dapr-cli',
    pkg: 'github.com/dapr/cli',
    ldflags: `-s -w -X main.version=${DAPR_CLI_VERSION} -X main.apiVersion=1.0`,
    current: async (path) => (await output(path, ['--version'])).includes(`CLI version: ${DAPR_CLI_VERSION}`),
  },
];

async function output(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(command, args, { timeout: 30_000 });
    return stdout.trim();
  } catch {
    return '';
  }
}

/** Makes daprd and the scheduler available; returns their paths. */
export async function provisionDapr(log: (line: string) => void = console.log): Promise<DaprBinaries> {
  return provision(['daprd', 'scheduler'], log);
}

/**
 * The dapr CLI too: only `dapr run -f dapr.yaml` needs it, so only `npm run
 * provision` builds it (146 s of a cold provisioning).
 */
export async function provisionDaprWithCli(
  log: (line: string) => void = console.log,
): Promise<DaprBinaries & { cli: string }> {
  return provision(['daprd', 'scheduler', 'cli'], log);
}

async function provision<N extends Binary['name']>(
  names: N[],
  log: (line: string) => void,
): Promise<Record<N, string>> {
  const bin = daprBinDir();
  await mkdir(bin, { recursive: true });
  const paths = {} as Record<N, string>;
  for (const name of names) {
    const binary = binaries.find((b) => b.name === name) as Binary;
    const path = join(bin, binary.file);
    paths[name] = path;
    if (existsSync(path) && (await binary.current(path))) continue;
    await build(binary, path, log);
    if (!(await binary.current(path)))
      throw new Error(`${path} was built but does not report the pinned version`);
  }
  return paths;
}

async function build(binary: Binary, target: string, log: (line: string) => void) {
  if (!(await output('go', ['version']))) {
    throw new Error(
      'The Go toolchain (go 1.26.5 or newer) is needed to build the Dapr binaries; put `go` on PATH.',
    );
  }
  log(
    `[dapr] building ${binary.file} ${binary.name === 'cli' ? DAPR_CLI_VERSION : DAPR_RUNTIME_VERSION} from the Go module proxy into ${target}`,
  );
  log(
    '[dapr] the first build downloads modules and compiles for several minutes; later runs reuse the binary',
  );
  await goBuild({
    cwd: join(root, binary.module),
    pkg: binary.pkg,
    ldflags: binary.ldflags,
    tags: binary.tags,
    output: target,
    label: binary.file,
    log: (line) => log(`[dapr] ${line}`),
  });
}
