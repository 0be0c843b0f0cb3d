import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processTree, Scope, type Stoppable, startProcess } from './processes.ts';

/** The state letter of /proc/<pid>/stat (R, S, T, Z…), or undefined once the process is gone. */
const state = async (pid: number) =>
  (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined))?.split(') ')[1]?.[0];

/** The state once a signal has taken effect: delivery is asynchronous, so a busy machine may show the old one for a moment. */
async function settledState(pid: number, wanted: (state: string | undefined) => boolean) {
  let current = await state(pid);
  for (let i = 0; i < 50 && !wanted(current); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    current = await state(pid);
  }
  return current;
}

/** Waits until `leader`'s tree has `size` processes (a shell takes a moment to fork, longer on a busy machine), at most 5 s; returns it. */
async function treeOf(leader: number, size: number) {
  let tree: Awaited<ReturnType<typeof processTree>> = [];
  for (let i = 0; i < 250 && tree.length < size; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    tree = await processTree(leader);
  }
  return tree;
}

const log = join(tmpdir(), 'processes-test.log');

describe('a restartable process', () => {
  const scope = new Scope();
  afterAll(() => scope.stop());

  it('pauses, resumes and kills its whole tree, also a child that left the group (setsid), and starts again', async () => {
    // Like PostgreSQL: its server processes each call setsid().
    const started = startProcess('tree', 'sh', ['-c', 'setsid sleep 30 & sleep 30 & wait'], {
      scope,
      cwd: tmpdir(),
      output: log,
    });
    const leader = started.child.pid as number;
    const tree = await treeOf(leader, 3);
    expect(tree.map((p) => p.pid)).toContain(leader);
    expect(tree.some((p) => p.pgid !== leader)).toBe(true);
    expect(tree).toHaveLength(3);

    await started.pause();
    for (const { pid } of tree) expect(await settledState(pid, (s) => s === 'T')).toBe('T');
    await started.resume();
    for (const { pid } of tree) expect(await settledState(pid, (s) => s !== 'T')).not.toBe('T');

    await started.kill();
    expect(started.running()).toBe(false);
    for (const { pid } of tree) expect(await state(pid)).toBeUndefined();

    await started.start();
    expect(started.running()).toBe(true);
    expect(started.pid).not.toBe(leader);
    const termination = await started.terminate(2000);
    expect(termination.graceful).toBe(true);
    expect(started.running()).toBe(false);
  });

  it('kills every process it forked, also those forked while the kill was under way, as a container kill does', async () => {
    // Like PostgreSQL's postmaster, which forks a backend per connection and each calls setsid(): a
    // child forked after a scan of the tree and orphaned by the leader's death is in no tree any more.
    // One that lived on kept the old shared memory, and the restarted PostgreSQL refused to start.
    const marker = `29.${process.pid}${Date.now() % 100_000}`;
    const forker = startProcess(
      'forker',
      'sh',
      ['-c', `while :; do setsid sleep ${marker} & sleep 0.005; done`],
      {
        scope,
        cwd: tmpdir(),
        output: log,
      },
    );
    const sleepers = async () => {
      const pids: number[] = [];
      for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline.includes(marker) && (await state(Number(pid))) !== 'Z') pids.push(Number(pid));
      }
      return pids;
    };
    try {
      for (let round = 0; round < 3; round++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await sleepers()).length).toBeGreaterThan(0);
        await forker.kill();
        expect(forker.running()).toBe(false);
        expect(await sleepers()).toEqual([]);
        await forker.start();
      }
    } finally {
      for (const pid of await sleepers()) process.kill(pid, 'SIGKILL');
      await forker.kill();
    }
  }, 20_000);

  it('runs as the user it is given, and after a pause and a resume its stop signal still ends it', async () => {
    // As root, PostgreSQL's user stands for nobody; otherwise spawn may only keep our own ids.
    const root = process.getuid?.() === 0;
    const user = root
      ? { uid: 65534, gid: 65534 }
      : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    const server = startProcess('as-user', 'sh', ['-c', 'trap "exit 0" INT; sleep 30 & wait'], {
      scope,
      cwd: tmpdir(),
      output: log,
      user,
      stopSignal: 'SIGINT',
    });
    const leader = server.child.pid as number;
    const tree = await treeOf(leader, 2);
    const status = await readFile(`/proc/${leader}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${user.uid}\\s`, 'm'));
    // The leader is the server itself, so nothing between us and it can stay stopped after the
    // resume (runuser did: it stops itself when it sees its child stopped, after our SIGCONT).
    await server.pause();
    for (const { pid } of tree) expect(await settledState(pid, (s) => s === 'T')).toBe('T');
    await server.resume();
    for (const { pid } of tree) expect(await settledState(pid, (s) => s !== 'T')).not.toBe('T');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await state(leader)).not.toBe('T');
    const termination = await server.terminate(3000);
    expect(termination.graceful).toBe(true);
  });

  it('reports a SIGKILL when SIGTERM does not end it within the grace', async () => {
    const stubborn = startProcess('stubborn', 'sh', ['-c', 'trap "" TERM; sleep 30 & wait; sleep 30'], {
      scope,
      cwd: tmpdir(),
      output: log,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const termination = await stubborn.terminate(300);
    expect(termination.graceful).toBe(false);
    expect(termination.ms).toBeGreaterThanOrEqual(300);
    expect(stubborn.running()).toBe(false);
  });
});

describe('a scope', () => {
  /** A member that notes when it is stopped, and may fail to stop. */
  const member = (name: string, stops: string[], fails = false): Stoppable => ({
    async stop() {
      stops.push(name);
      if (fails) throw new Error(`${name} would not stop`);
    },
  });

  it('stops its members newest first, each once, however often and however concurrently it is stopped', async () => {
    const stops: string[] = [];
    const scope = new Scope();
    for (const name of ['a', 'b', 'c']) scope.add(member(name, stops));
    await Promise.all([scope.stop(), scope.stop()]);
    await scope.stop();
    expect(stops).toEqual(['c', 'b', 'a']);
  });

  it('stops the others when one fails to stop, and reports it afterwards', async () => {
    const stops: string[] = [];
    const scope = new Scope();
    for (const name of ['a', 'b', 'c']) scope.add(member(name, stops, name === 'b'));
    await expect(scope.stop()).rejects.toThrow('some parts did not stop cleanly');
    expect(stops).toEqual(['c', 'b', 'a']);
  });

  it('stops a child scope in its place among the parent’s members; the child stops alone too', async () => {
    const stops: string[] = [];
    const parent = new Scope();
    parent.add(member('jaeger', stops));
    const stack = new Scope(parent);
    stack.add(member('scheduler', stops));
    stack.add(member('daprd', stops));
    parent.add(member('prometheus', stops));
    await stack.stop();
    expect(stops).toEqual(['daprd', 'scheduler']);
    await parent.stop();
    expect(stops).toEqual(['daprd', 'scheduler', 'prometheus', 'jaeger']);
  });

  it('starts nothing once it is stopping: a start interrupted by a signal ends there', async () => {
    const scope = new Scope();
    await scope.stop();
    expect(scope.stopping).toBe(true);
    expect(() => startProcess('late', 'sleep', ['30'], { scope, cwd: tmpdir(), output: log })).toThrow(
      'stopping',
    );
    expect(() => new Scope(scope)).toThrow('stopping');
  });

  it('run(): a part that fails to start leaves nothing running, also what the others forked', async () => {
    const scope = new Scope();
    const pids: number[] = [];
    const failed = scope.run(async () => {
      for (const name of ['first', 'second']) {
        // A shell that SIGTERM ends, leaving the sleep it forked: stop() ends that too.
        const started = startProcess(name, 'sh', ['-c', 'sleep 30 & wait'], {
          scope,
          cwd: tmpdir(),
          output: log,
        });
        pids.push(...(await treeOf(started.child.pid as number, 2)).map((p) => p.pid));
      }
      throw new Error('the third part did not start');
    });
    await expect(failed).rejects.toThrow('the third part did not start');
    expect(pids).toHaveLength(4);
    for (const pid of pids) expect(await state(pid)).toBeUndefined();
  });
});
