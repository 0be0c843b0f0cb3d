import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** Ports this process handed out: never the same one twice. */
const handedOut = new Set<number>();

/**
 * The kernel's ephemeral range: where it picks the local port of every
 * outgoing connection (and of listen(0)). A port handed out from inside it
 * can be taken by any process's next connection before its user binds it
 * (measured: the scheduler's etcd failed with "address already in use"
 * while Kafka clients were connecting), so ports come from below it.
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high) return [low, high];
  } catch {}
  return [32768, 60999];
}

const [EPHEMERAL_LOW] = ephemeralRange();
const PORT_FLOOR = 10_000;

/** Whether a loopback listener can bind `port` now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port nothing listens on, outside the kernel's ephemeral range
 * (so no outgoing connection takes it meanwhile), never the same one twice
 * in this process; chosen at random, so that two runs at once rarely meet.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (EPHEMERAL_LOW - PORT_FLOOR));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

/** What a Scope stops: a process, a server, a stack, another scope. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * The owner of everything one run starts (npm start, a test stack, a
 * benchmark): each process joins its scope before it is spawned (startProcess
 * requires one), and stop() stops them all, newest first, each once, waiting
 * for each (SIGTERM, SIGKILL after its grace). A part that fails to start
 * therefore leaves nothing behind once its caller stops the scope, which
 * run() does. Once stop() has begun, joining throws: a start that a signal
 * interrupts spawns nothing more, and its error ends it.
 */
export class Scope implements Stoppable {
  readonly #members: Stoppable[] = [];
  #stopping = false;
  #draining: Promise<void> | undefined;

  /** A scope of its own (a stack's), stopped by its parent's stop() too, after what joined the parent later. */
  constructor(parent?: Scope) {
    parent?.add(this);
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Joins `member` (before starting it); throws when the scope is stopping. */
  add<T extends Stoppable>(member: T): T {
    if (this.#stopping) throw new Error('stopping: starting nothing more');
    this.#members.push(member);
    return member;
  }

  /** Stops every member, newest first; one stop at a time, however often it is called. */
  stop(): Promise<void> {
    this.#stopping = true;
    this.#draining ??= (async () => {
      const errors: unknown[] = [];
      for (let member = this.#members.pop(); member; member = this.#members.pop())
        await member.stop().catch((error: unknown) => errors.push(error));
      if (errors.length > 0) throw new AggregateError(errors, 'some parts did not stop cleanly');
    })();
    return this.#draining;
  }

  /** Runs `start`, which adds what it starts to this scope; if it fails, stops the scope, then rethrows. */
  async run<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
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
 * does a container: kill, pause and resume reach everything it runs, its
 * process group and every descendant (each of PostgreSQL's server processes
 * calls setsid(), so the group alone misses them), and start() runs the same command line with the same environment,
 * working directory and output file, so the process finds its data where it
 * left it.
 */
export interface Restartable extends Started {
  /** The group leader's pid (the process group's id); undefined while it is not running. */
  readonly pid: number | undefined;
  running(): boolean;
  /** Sends `signal` to its group and its descendants; false when none is left. */
  signal(signal: NodeJS.Signals): Promise<boolean>;
  /** SIGKILL to all of it; resolves once the leader has exited. */
  kill(): Promise<void>;
  /** SIGSTOP to all of it: the processes keep their sockets but answer nothing. */
  pause(): Promise<void>;
  /** SIGCONT to all of it. */
  resume(): Promise<void>;
  /** Starts it again as it was first started; resolves once its readiness check passes. */
  start(): Promise<void>;
  /** The stop signal (SIGTERM unless started with another) to the group, SIGKILL after `graceMs`; says which ended it. */
  terminate(graceMs?: number): Promise<Termination>;
  /** CPU time (user + system, ms) used so far by its group and descendants, reaped children included. */
  cpuMs(): Promise<number>;
}

/** Every child of this process still running, with its name. */
const running = new Map<ChildProcess, string>();
// Never leave a child behind, whatever way this process ends (process.exit, an uncaught error): its whole
// group, since some fork. Only a SIGKILL of this process, which runs no handler, leaves them running.
process.on('exit', () => {
  for (const child of running.keys()) signalGroup(child, 'SIGKILL');
});

/** The children of this process still running: what a SIGKILL of it would leave behind. */
export const runningChildren = () => [...running].map(([child, name]) => ({ name, pid: child.pid ?? 0 }));

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  return child.pid !== undefined && send(-child.pid, signal);
}

function send(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The group first (its leader cannot fork after a SIGSTOP), then each descendant outside it. */
async function signalTree(child: ChildProcess, signal: NodeJS.Signals): Promise<boolean> {
  if (child.pid === undefined) return false;
  const pids = (await processTree(child.pid)).filter((p) => p.pgid !== child.pid).map((p) => p.pid);
  let reached = signalGroup(child, signal);
  for (const pid of pids) reached = send(pid, signal) || reached;
  return reached;
}

/**
 * Stops the whole tree with SIGSTOP until one scan finds every member of it stopped, and returns
 * them: a stopped process forks nothing, so that set is closed. Signalling a scan's pids is not:
 * what a member forks after the scan is missed, and once its parent is dead it is in no tree at
 * all (PostgreSQL's postmaster forks a backend per connection; one that lived on held the old
 * shared memory, and the restarted server refused to start). This is by hand what the cgroup
 * freezer does before a container's processes are killed.
 */
async function freezeTree(child: ChildProcess): Promise<number[]> {
  if (child.pid === undefined) return [];
  const deadline = Date.now() + 5000;
  for (;;) {
    const tree = await processTree(child.pid);
    // T: stopped; Z and X: exited, not yet reaped. A process in D takes the signal when it leaves D.
    const moving = tree.filter((p) => !'TtZX'.includes(p.state));
    if (moving.length === 0 || Date.now() > deadline) return tree.map((p) => p.pid);
    for (const { pid } of moving) send(pid, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** SIGKILL to everything in the tree, frozen first so nothing it forks escapes; resolves once the leader has exited and every one of them is gone. */
async function killTree(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const frozen = await freezeTree(child);
  signalGroup(child, 'SIGKILL');
  for (const pid of frozen) send(pid, 'SIGKILL');
  await exited;
  // Until the last is reaped: PostgreSQL will not start while its lock file names a pid that exists.
  await allGone(frozen);
}

export interface StartOptions {
  /** What owns the process: it joins before it is spawned, and the scope's stop() stops it. */
  scope: Scope;
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go: a log file, or `inherit` for this terminal. */
  output: string | 'inherit';
  /** When a start() is done: default as soon as the process runs. */
  ready?: () => Promise<boolean>;
  /** What terminate() sends the group first (a container image's STOPSIGNAL); default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** What stop() does first while the process runs (PostgreSQL: `pg_ctl stop -m fast`), then its SIGTERM. */
  beforeStop?: () => Promise<void>;
  /**
   * The user and group it runs as (PostgreSQL refuses root). Set by spawn itself: a wrapper such
   * as runuser would be the group's leader, and one that watches its child stops itself when a
   * pause stops that child, after the resume's SIGCONT has passed, so it never exits again.
   */
  user?: { uid: number; gid: number };
  /** How long stop() waits after SIGTERM before SIGKILL; default 8 s. */
  stopGraceMs?: number;
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
      ...options.user,
      stdio: options.output === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    });
    const current = child;
    running.set(current, name);
    if (options.output !== 'inherit') {
      const file = createWriteStream(options.output, { flags: 'a' });
      current.stdout?.pipe(file);
      current.stderr?.pipe(file);
    }
    exited = new Promise<void>((done) => {
      const gone = () => {
        running.delete(current);
        done();
      };
      current.on('exit', gone);
      // A command that could not be spawned (ENOENT) emits no 'exit'; unheard, its 'error' would end this process.
      current.on('error', () => current.pid === undefined && gone());
    });
  };
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const endWith = async (signal: NodeJS.Signals, graceMs: number, group: boolean): Promise<Termination> => {
    const begun = Date.now();
    if (!isRunning()) return { graceful: true, ms: 0 };
    const tree = child.pid === undefined ? [] : await processTree(child.pid);
    if (group) signalGroup(child, signal);
    else child.kill(signal);
    let graceful = true;
    const timer = setTimeout(() => {
      graceful = false;
      if (group) void killTree(child, exited);
      else child.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
    const ms = Date.now() - begun;
    // What outlives the leader in a session of its own goes with it, as a container's processes do.
    for (const { pid } of tree) send(pid, 'SIGKILL');
    await allGone(tree.map((p) => p.pid));
    return { graceful, ms };
  };

  const started: Restartable = {
    name,
    get child() {
      return child;
    },
    get pid() {
      return isRunning() ? child.pid : undefined;
    },
    running: isRunning,
    async stop(graceMs = options.stopGraceMs ?? 8000) {
      if (isRunning()) await options.beforeStop?.().catch(() => undefined);
      await endWith('SIGTERM', graceMs, false);
    },
    signal: (signal) => signalTree(child, signal),
    kill: () => killTree(child, exited),
    pause: async () => void (await freezeTree(child)),
    resume: async () => void (await signalTree(child, 'SIGCONT')),
    async start() {
      if (isRunning()) throw new Error(`${name} is already running (pid ${child.pid})`);
      if (options.scope.stopping) throw new Error(`${name}: its scope is stopping`);
      spawnOnce();
      if (options.ready) await waitFor(name, options.ready, { alive: isRunning });
    },
    terminate: (graceMs = 10_000) => endWith(options.stopSignal ?? 'SIGTERM', graceMs, true),
    cpuMs: async () =>
      child.pid === undefined ? 0 : (await processTree(child.pid)).reduce((ms, p) => ms + p.cpuMs, 0),
  };
  options.scope.add(started);
  spawnOnce();
  return started;
}

/** Resolves once none of `pids` is in /proc (orphans are reaped by init, a little later), or after `ms`. */
async function allGone(pids: number[], ms = 10_000) {
  const deadline = Date.now() + ms;
  while (pids.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
export async function statFields(pid: number | string): Promise<string[] | undefined> {
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

interface ProcessInfo {
  pid: number;
  pgid: number;
  /** The state letter of /proc/<pid>/stat: R, S, D, T (stopped), Z… */
  state: string;
  cpuMs: number;
}

/**
 * The live processes of the group `leader` leads, and all their descendants
 * wherever they went (a new group or session); from /proc: state, ppid and pgrp are
 * the 1st, 2nd and 3rd fields after the command name.
 */
export async function processTree(leader: number): Promise<ProcessInfo[]> {
  const all: Array<ProcessInfo & { ppid: number }> = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const fields = await statFields(pid);
    if (fields)
      all.push({
        pid: Number(pid),
        state: fields[0] ?? '',
        ppid: Number(fields[1]),
        pgid: Number(fields[2]),
        cpuMs: cpuOfFields(fields),
      });
  }
  const inTree = new Set(all.filter((p) => p.pgid === leader || p.pid === leader).map((p) => p.pid));
  for (let grown = true; grown; ) {
    grown = false;
    for (const p of all)
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grown = true;
      }
  }
  return all.filter((p) => inTree.has(p.pid)).map(({ ppid: _, ...p }) => p);
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
