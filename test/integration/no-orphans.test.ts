import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processTree, statFields } from '../../scripts/lib/processes.ts';
import { freePorts, type Ports, projectRoot } from '../../scripts/lib/stack.ts';

/**
 * `npm start` leaves nothing behind. It runs here as it does from a terminal
 * (scripts/start.ts on the pinned Node, the embedded profile), with a work
 * directory and ports of its own so it never meets a developer's stack, and
 * is stopped by each signal that ends it in practice, by a second signal
 * while it stops, and by a part that cannot start (daprd's metrics port
 * taken, the finding this test comes from). Each time, no process it started
 * is left and every port it used is free. The processes are found from the
 * outside: its process tree, read from /proc every 100 ms while it runs.
 */

/** A process as /proc shows it: its pid, and its start time (a reused pid has another). */
interface Seen {
  pid: number;
  startTime: string;
  command: string;
}

/** Fields of /proc/<pid>/stat after the command name: the state is the 1st, the start time the 20th. */
async function stillRunning({ pid, startTime }: Seen): Promise<boolean> {
  const fields = await statFields(pid);
  return fields !== undefined && fields[19] === startTime && fields[0] !== 'Z';
}

interface NpmStart {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every process of its tree seen while it ran, itself included. */
  seen: Map<number, Seen>;
}

function npmStart(workDir: string, ports: Ports): NpmStart {
  const { app, ...others } = ports;
  const child = spawn(
    process.execPath,
    [
      'scripts/start.ts',
      '--work-dir',
      workDir,
      ...Object.entries(others).flatMap(([name, port]) => ['--port', `${name}=${port}`]),
    ],
    // The app's port the way a developer moves it: PORT.
    { cwd: projectRoot, env: { ...process.env, PORT: String(app) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const seen = new Map<number, Seen>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let running = true;
  void exited.then(() => {
    running = false;
  });
  void (async () => {
    const leader = child.pid as number;
    while (running) {
      for (const { pid } of await processTree(leader)) {
        const fields = await statFields(pid);
        if (fields && !seen.has(pid))
          seen.set(pid, { pid, startTime: fields[19] ?? '', command: await command(pid) });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return { child, output: () => output, exited, seen };
}

const command = (pid: number) =>
  readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (line) => line.replaceAll('\0', ' ').trim(),
    () => '',
  );

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A port is free when it can be bound again: nothing listens on it, on any address. */
const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** Processes that run in `dir` (daprd and the scheduler run in the work directory): none may be left. */
async function runningIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(pid));
  }
  return pids;
}

/** What is left of a run once it has exited: processes still running, ports still taken. */
async function leftovers(run: NpmStart, workDir: string, ports: number[]) {
  // A SIGKILLed process is gone at once, but the kernel may take a moment to deliver the signal.
  const deadline = Date.now() + 5000;
  for (;;) {
    const processes: string[] = [];
    for (const process of run.seen.values())
      if (await stillRunning(process)) processes.push(`${process.pid} ${process.command}`);
    for (const pid of await runningIn(workDir))
      if (!run.seen.has(pid)) processes.push(`${pid} ${await command(pid)} (in ${workDir})`);
    const taken: number[] = [];
    for (const port of ports) if (!(await portFree(port))) taken.push(port);
    if ((processes.length === 0 && taken.length === 0) || Date.now() > deadline) return { processes, taken };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ready = (run: NpmStart) =>
  until(
    'npm start ready',
    () => {
      if (run.child.exitCode !== null) throw new Error(`npm start exited:\n${run.output()}`);
      return run.output().includes('Press Ctrl-C to stop.');
    },
    120_000,
  );

/**
 * The stack's processes by their command lines (not the `daprd --version`
 * and `go version -m` that check the binaries first).
 */
const parts = { scheduler: 'bin/scheduler --port', app: 'main.ts all', daprd: 'bin/daprd --app-id' };
type Part = keyof typeof parts;

/** The stack's processes seen running. */
const seenRunning = (run: NpmStart) => (Object.keys(parts) as Part[]).filter((part) => seenPart(run, part));
const seenPart = (run: NpmStart, part: Part) =>
  [...run.seen.values()].find((p) => p.command.includes(parts[part]));

const daprdLog = (workDir: string) => readFile(join(workDir, '.data', 'logs', 'daprd.log'), 'utf8');

describe('npm start stops everything it started', () => {
  let workDir = '';
  let run: NpmStart | undefined;
  const taken: Server[] = [];
  afterEach(async () => {
    // Should a check fail, what is left goes too, so that the next test and the developer find nothing.
    if (run?.child.exitCode === null) run.child.kill('SIGKILL');
    for (const process of run?.seen.values() ?? [])
      if (await stillRunning(process)) globalThis.process.kill(process.pid, 'SIGKILL');
    for (const server of taken.splice(0)) server.close();
    if (workDir && !process.env.KEEP_TEST_DATA) await rm(workDir, { recursive: true, force: true });
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('on %s', async (signal) => {
    workDir = await mkdtemp(join(tmpdir(), 'tasks-stop-'));
    const ports = await freePorts();
    run = npmStart(workDir, ports);
    await ready(run);
    expect(seenRunning(run)).toEqual(['scheduler', 'app', 'daprd']);
    run.child.kill(signal);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.output()).toContain('Stopped.');
    expect(await leftovers(run, workDir, Object.values(ports))).toEqual({ processes: [], taken: [] });
    // Stopped, not killed: daprd had the time to shut down on its SIGTERM.
    expect(await daprdLog(workDir)).toContain('Dapr runtime stopped');
  });

  it('on a second signal while stopping: SIGKILL to what is left, without waiting for the grace', async () => {
    workDir = await mkdtemp(join(tmpdir(), 'tasks-stop-'));
    const ports = await freePorts();
    run = npmStart(workDir, ports);
    await ready(run);
    // A daprd that answers no signal but SIGKILL (a hung one): the first stop waits out its 8 s grace.
    const daprd = seenPart(run, 'daprd');
    if (!daprd) throw new Error('no daprd seen');
    process.kill(daprd.pid, 'SIGSTOP');
    const begun = Date.now();
    run.child.kill('SIGINT');
    const current = run;
    await until('stopping', () => current.output().includes('stopping everything'), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    run.child.kill('SIGTERM');
    // 128 + SIGTERM's 15: the second signal ended it, not the end of the first stop.
    expect(await run.exited).toEqual({ code: 143, signal: null });
    expect(Date.now() - begun).toBeLessThan(8000);
    expect(await leftovers(run, workDir, Object.values(ports))).toEqual({ processes: [], taken: [] });
  });

  it('when daprd cannot start (its metrics port is taken): exits 1, after stopping the rest', async () => {
    workDir = await mkdtemp(join(tmpdir(), 'tasks-stop-'));
    const ports = await freePorts();
    const server = createServer();
    taken.push(server);
    await new Promise<void>((resolve) => server.listen(ports.daprMetrics, '127.0.0.1', resolve));
    run = npmStart(workDir, ports);
    const { code } = await run.exited;
    expect(run.output()).toContain('npm start failed');
    expect(code).toBe(1);
    // The scheduler had started. The app and daprd start together: daprd ends within ms, and the stop
    // that follows may end the app before a 100 ms sample of the process tree sees it (a loaded
    // machine's CI run missed it once); an app left running would hold its port, checked below.
    expect(seenRunning(run)[0]).toBe('scheduler');
    expect(await daprdLog(workDir)).toContain(
      `listen tcp 127.0.0.1:${ports.daprMetrics}: bind: address already in use`,
    );
    const { daprMetrics, ...others } = ports;
    // Time for an app that escaped the stop to have bound its port (it listens about 0.5 s after its start).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await leftovers(run, workDir, Object.values(others))).toEqual({ processes: [], taken: [] });
  });
});
