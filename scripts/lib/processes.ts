import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A port the OS says is free right now, on the loopback address. */
/** Ports this process handed out: the OS may offer a closed one again before its user binds it. */
const handedOut = new Set<number>();

/** A loopback port nothing listens on, never the same one twice in this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() =>
          typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
        );
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface Started {
  name: string;
  /** The current process (the leader of its process group); a new one after each start(). */
  readonly child: ChildProcess;
  /** Stops the process: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** How a SIGTERM (or the process's stop signal) ended it: on its own within the grace, or by SIGKILL. */
export interface Termination {
  graceful: boolean;
  ms: number;
}

/**
 * A process a fault test can kill, pause and start again, like a kubelet
 * does a container: every signal goes to the whole process group (servers
 * such as PostgreSQL run their work in children, under `runuser`), and
 * start() runs the same command line with the same environment, working
 * directory and output file, so the process finds its data where it left it.
 */
export interface Restartable extends Started {
  /** The group leader's pid (the process group's id); undefined while it is not running. */
  readonly pid: number | undefined;
  running(): boolean;
  /** Sends `signal` to every process of the group; false when none is left. */
  signal(signal: NodeJS.Signals): boolean;
  /** SIGKILL to the group; resolves once the leader has exited. */
  kill(): Promise<void>;
  /** SIGSTOP to the group: the processes keep their sockets but answer nothing. */
  pause(): void;
  /** SIGCONT to the group. */
  resume(): void;
  /** Starts it again as it was first started; resolves once its readiness check passes. */
  start(): Promise<void>;
  /** The stop signal (SIGTERM unless started with another) to the group, SIGKILL after `graceMs`; says which ended it. */
  terminate(graceMs?: number): Promise<Termination>;
  /** CPU time (user + system, ms) used so far by the processes of its group, children included. */
  cpuMs(): Promise<number>;
}

const running = new Set<ChildProcess>();
// Never leave a child behind, whatever way this process ends: its whole group, since some fork.
process.on('exit', () => {
  for (const child of running) signalGroup(child, 'SIGKILL');
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

export interface StartOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go: a log file, or `inherit` for this terminal. */
  output: string | 'inherit';
  /** When a start() is done: default as soon as the process runs. */
  ready?: () => Promise<boolean>;
  /** What terminate() sends the group first (a container image's STOPSIGNAL); default SIGTERM. */
  stopSignal?: NodeJS.Signals;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: StartOptions,
): Restartable {
  let child: ChildProcess;
  let exited: Promise<void>;
  const spawnOnce = () => {
    child = spawn(command, args, {
      // A process group of its own: Ctrl-C reaches only the parent, which stops the children in order,
      // and a fault test can signal the process with everything it forked.
      detached: true,
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: options.output === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    });
    const current = child;
    running.add(current);
    if (options.output !== 'inherit') {
      const file = createWriteStream(options.output, { flags: 'a' });
      current.stdout?.pipe(file);
      current.stderr?.pipe(file);
    }
    exited = new Promise<void>((done) => {
      current.on('exit', () => {
        running.delete(current);
        done();
      });
    });
  };
  spawnOnce();
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const endWith = async (signal: NodeJS.Signals, graceMs: number, group: boolean): Promise<Termination> => {
    const begun = Date.now();
    if (!isRunning()) return { graceful: true, ms: 0 };
    if (group) signalGroup(child, signal);
    else child.kill(signal);
    let graceful = true;
    const timer = setTimeout(() => {
      graceful = false;
      if (group) signalGroup(child, 'SIGKILL');
      else child.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
    return { graceful, ms: Date.now() - begun };
  };

  return {
    name,
    get child() {
      return child;
    },
    get pid() {
      return isRunning() ? child.pid : undefined;
    },
    running: isRunning,
    async stop(graceMs = 8000) {
      await endWith('SIGTERM', graceMs, false);
    },
    signal: (signal) => signalGroup(child, signal),
    async kill() {
      signalGroup(child, 'SIGKILL');
      await exited;
    },
    pause: () => void signalGroup(child, 'SIGSTOP'),
    resume: () => void signalGroup(child, 'SIGCONT'),
    async start() {
      if (isRunning()) throw new Error(`${name} is already running (pid ${child.pid})`);
      spawnOnce();
      if (options.ready) await waitFor(name, options.ready, { alive: isRunning });
    },
    terminate: (graceMs = 10_000) => endWith(options.stopSignal ?? 'SIGTERM', graceMs, true),
    cpuMs: async () => (child.pid === undefined ? 0 : groupCpuMs(child.pid)),
  };
}

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
async function statFields(pid: number | string): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * User and system CPU time a process has used, in ms, with that of its
 * children it has waited for; `fields` are statFields(): utime and stime
 * are the 12th and 13th, cutime and cstime the 14th and 15th.
 */
const cpuOfFields = (fields: string[]) =>
  ((Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticksPerSecond) *
  1000;

/** CPU time (ms) of every live process of the process group `pgid` (the 3rd field). */
export async function groupCpuMs(pgid: number): Promise<number> {
  let total = 0;
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const fields = await statFields(pid);
    if (fields && Number(fields[2]) === pgid) total += cpuOfFields(fields);
  }
  return total;
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs` or when `alive` turns false. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs = 60_000, alive = () => true }: { timeoutMs?: number; alive?: () => boolean } = {},
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`${what}: the process exited`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000}s`);
}

export async function httpOk(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.ok;
}

/** Waits until `check` passes for a process just started; if it exits or never passes, stops it and throws. */
export async function untilReady(started: Started, check: () => Promise<boolean>): Promise<void> {
  try {
    await waitFor(started.name, check, { alive: () => started.child.exitCode === null });
  } catch (error) {
    await started.stop();
    throw error;
  }
}
