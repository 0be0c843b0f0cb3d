import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processTree, startProcess } from './processes.ts';

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

describe('a restartable process', () => {
  it('pauses, resumes and kills its whole tree, also a child that left the group (setsid), and starts again', async () => {
    // Like PostgreSQL under runuser: the server's processes each call setsid().
    const started = startProcess('tree', 'sh', ['-c', 'setsid sleep 30 & sleep 30 & wait'], {
      cwd: tmpdir(),
      output: join(tmpdir(), 'processes-test.log'),
    });
    const leader = started.child.pid as number;
    let tree: Awaited<ReturnType<typeof processTree>> = [];
    for (let i = 0; i < 50 && tree.length < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      tree = await processTree(leader);
    }
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

  it('reports a SIGKILL when SIGTERM does not end it within the grace', async () => {
    const stubborn = startProcess('stubborn', 'sh', ['-c', 'trap "" TERM; sleep 30 & wait; sleep 30'], {
      cwd: tmpdir(),
      output: join(tmpdir(), 'processes-test.log'),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const termination = await stubborn.terminate(300);
    expect(termination.graceful).toBe(false);
    expect(termination.ms).toBeGreaterThanOrEqual(300);
    expect(stubborn.running()).toBe(false);
  });
});
