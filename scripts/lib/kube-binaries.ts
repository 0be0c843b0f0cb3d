import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { goBuild } from './go-tool.ts';

/**
 * The binaries of a local Kubernetes control plane (issue 15), pinned, built
 * with the Go toolchain from the Go module proxy through the wrapper modules
 * in tools/ (etcd, kubernetes, kwok, keda) into
 * ~/.cache/tasks-on-dapr/kube/bin; a binary already there that reports the
 * pinned version is used as it is. Nothing built is committed.
 */
export const KUBERNETES_VERSION = '1.37.2';
export const ETCD_VERSION = '3.7.3';
export const KWOK_VERSION = '0.8.0';
export const KEDA_VERSION = '2.21.0';

const run = promisify(execFile);
const tools = resolve(import.meta.dirname, '../../tools');

export const kubeBinaryNames = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'keda-operator',
  'keda-adapter',
] as const;
export type KubeBinaryName = (typeof kubeBinaryNames)[number];
export type KubeBinaries = Record<KubeBinaryName, string>;

export function kubeBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBE_BIN_DIR ?? join(homedir(), '.cache', 'tasks-on-dapr', 'kube', 'bin');
}

/**
 * The version stamp `make` gives a Kubernetes release: a plain `go build`
 * leaves `v0.0.0-master+$Format:%H$`, which `--version`, the API server's
 * /version and every client that checks the server's version (KEDA's
 * operator among them) would see. Both copies of the version variables are
 * set, component-base's (the servers') and client-go's (their clients').
 * The build date is fixed, so that a rebuild is the same binary.
 */
export function kubernetesLdflags(version: string = KUBERNETES_VERSION): string {
  const [major, minor] = version.split('.');
  const stamps = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) =>
    [
      `gitVersion=v${version}`,
      `gitMajor=${major}`,
      `gitMinor=${minor}`,
      'gitTreeState=clean',
      'buildDate=1970-01-01T00:00:00Z',
    ].map((assignment) => `-X ${pkg}.${assignment}`),
  );
  return ['-s', '-w', ...stamps].join(' ');
}

export interface KubeBinary {
  name: KubeBinaryName;
  /** The wrapper module's folder under tools/. */
  module: string;
  /** The Go module the package comes from, and its pinned version. */
  goModule: string;
  version: string;
  /** The main package. */
  pkg: string;
  ldflags: string;
  /** When the binary has a version flag: the flag, and what its output must include. */
  reports?: { args: string[]; includes: string };
}

const k8s = (name: KubeBinaryName): KubeBinary => ({
  name,
  module: 'kubernetes',
  goModule: 'k8s.io/kubernetes',
  version: KUBERNETES_VERSION,
  pkg: `k8s.io/kubernetes/cmd/${name}`,
  ldflags: kubernetesLdflags(),
  // The stamp is not in the Go build info (-trimpath leaves -ldflags out of it); the binary says it.
  reports: { args: ['--version'], includes: `Kubernetes v${KUBERNETES_VERSION}` },
});

const keda = (name: KubeBinaryName, command: string): KubeBinary => ({
  name,
  module: 'keda',
  goModule: 'github.com/kedacore/keda/v2',
  version: KEDA_VERSION,
  pkg: `github.com/kedacore/keda/v2/cmd/${command}`,
  // What the operator logs at start and puts in its metrics; its commands have no version flag.
  ldflags: `-s -w -X github.com/kedacore/keda/v2/version.Version=${KEDA_VERSION}`,
});

export const kubeBinaries: readonly KubeBinary[] = [
  {
    name: 'etcd',
    module: 'etcd',
    goModule: 'go.etcd.io/etcd/server/v3',
    version: ETCD_VERSION,
    // The etcd command is the main package at the module's root.
    pkg: 'go.etcd.io/etcd/server/v3',
    ldflags: '-s -w',
    reports: { args: ['--version'], includes: `etcd Version: ${ETCD_VERSION}` },
  },
  k8s('kube-apiserver'),
  k8s('kube-controller-manager'),
  k8s('kube-scheduler'),
  {
    name: 'kwok',
    module: 'kwok',
    goModule: 'sigs.k8s.io/kwok',
    version: KWOK_VERSION,
    pkg: 'sigs.k8s.io/kwok/cmd/kwok',
    ldflags: '-s -w',
    reports: { args: ['--version'], includes: `kwok version v${KWOK_VERSION}` },
  },
  keda('keda-operator', 'operator'),
  keda('keda-adapter', 'adapter'),
];

/**
 * Whether `go version -m`'s output says the binary is `binary.pkg` built
 * from `binary.goModule` at its pinned version: a package built from a
 * wrapper module records its own module as `mod` (go 1.24 on), an older
 * layout as `dep`.
 */
export function builtAsPinned(buildInfo: string, binary: KubeBinary): boolean {
  const lines = buildInfo.split('\n').map((line) => line.trim().split(/\s+/));
  const path = lines.find(([key]) => key === 'path')?.[1];
  return (
    path === binary.pkg &&
    lines.some(
      ([key, module, version]) =>
        (key === 'mod' || key === 'dep') && module === binary.goModule && version === `v${binary.version}`,
    )
  );
}

async function output(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 30_000 });
    return `${stdout}${stderr}`.trim();
  } catch {
    return '';
  }
}

async function current(binary: KubeBinary, path: string): Promise<boolean> {
  if (!builtAsPinned(await output('go', ['version', '-m', path]), binary)) return false;
  return !binary.reports || (await output(path, binary.reports.args)).includes(binary.reports.includes);
}

export interface ProvisionOptions {
  /** Where the binaries go; default kubeBinDir(). */
  dir?: string;
  /** Which of them; default all. */
  names?: readonly KubeBinaryName[];
  log?: (line: string) => void;
}

/**
 * Makes the control plane's binaries available, building those missing or
 * at another version, one at a time (a cold build of all seven took 27 min
 * on this 2-core machine: kube-apiserver and KEDA's operator are most of
 * it); returns their paths.
 */
export async function provisionKubeBinaries({
  dir = kubeBinDir(),
  names = kubeBinaryNames,
  log = console.log,
}: ProvisionOptions = {}): Promise<KubeBinaries> {
  await mkdir(dir, { recursive: true });
  const paths = {} as KubeBinaries;
  for (const name of names) {
    const binary = kubeBinaries.find((b) => b.name === name) as KubeBinary;
    const path = join(dir, name);
    paths[name] = path;
    if (existsSync(path) && (await current(binary, path))) continue;
    if (!(await output('go', ['version'])))
      throw new Error(`The Go toolchain is needed to build ${name}; put \`go\` on PATH.`);
    log(
      `[kube] building ${name} ${binary.version} from the Go module proxy (tools/${binary.module}) into ${path}`,
    );
    await goBuild({
      cwd: join(tools, binary.module),
      pkg: binary.pkg,
      ldflags: binary.ldflags,
      output: path,
      label: name,
      log: (line) => log(`[kube] ${line}`),
    });
    if (!(await current(binary, path)))
      throw new Error(`${path} was built but does not report ${binary.goModule} v${binary.version}`);
  }
  return paths;
}

/** The folder of a Go module in the module cache, at the version a wrapper module in tools/ pins. */
export async function goModuleDir(wrapper: string, module: string): Promise<string> {
  const { stdout } = await run('go', ['list', '-m', '-json', module], { cwd: join(tools, wrapper) });
  const { Dir } = JSON.parse(stdout) as { Dir?: string };
  if (!Dir)
    throw new Error(`${module} is not in the module cache; run \`go mod download\` in tools/${wrapper}`);
  return Dir;
}
