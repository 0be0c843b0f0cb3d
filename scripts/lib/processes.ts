import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
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
  child: ChildProcess;
  /** Stops the process: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// Never leave a child behind, whatever way this process ends.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface StartOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go: a log file, or `inherit` for this terminal. */
  output: string | 'inherit';
}

export function startProcess(name: string, command: string, args: string[], options: StartOptions): Started {
  const child = spawn(command, args, {
    // A process group of its own: Ctrl-C reaches only the parent, which stops the children in order.
    detached: true,
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: options.output === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  if (options.output !== 'inherit') {
    const file = createWriteStream(options.output, { flags: 'a' });
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
  }
  const exited = new Promise<void>((done) => {
    child.on('exit', () => {
      running.delete(child);
      done();
    });
  });
  return {
    name,
    child,
    async stop(graceMs = 8000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
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
