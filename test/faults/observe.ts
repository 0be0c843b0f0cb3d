import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { activityKey } from '../../tasks/activity.ts';
import { send, type Target } from './load.ts';
import type { ActivityEntry, Observed, TaskBody } from './records.ts';

/**
 * Reads back what the checks compare with: each task's GET, its activity
 * (as stored, read through daprd: the API answers 404 for a deleted task's)
 * and its notification files, and every task the listing holds (which finds
 * tasks whose ambiguous create did commit). Reads after the faults are
 * retried a few times: a read that fails is no finding, only a slow store.
 */
async function read(target: Target, path: string) {
  for (let attempt = 1; ; attempt++) {
    const outcome = await send(target, 'GET', path);
    if (outcome.status === 200 || outcome.status === 404 || attempt === 5) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
}

/** Every task id of `GET /tasks`, walking `nextCursor` to the end. */
export async function listedTasks(target: Target): Promise<TaskBody[]> {
  const tasks: TaskBody[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `/tasks?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const outcome = await read(target, query);
    if (outcome.status !== 200) throw new Error(`GET ${query} answered ${outcome.status ?? outcome.error}`);
    const page = outcome.body as { items: TaskBody[]; nextCursor: string | null };
    tasks.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return tasks;
}

async function notificationFiles(dataDir: string): Promise<string[]> {
  return readdir(join(dataDir, 'notifications')).catch(() => []);
}

/** A task's stored history, read through daprd's state API; empty when there is none yet. */
async function storedActivity(daprd: Target, id: string) {
  const path = `/v1.0/state/statestore/${encodeURIComponent(activityKey(id))}`;
  for (let attempt = 1; ; attempt++) {
    const outcome = await send(daprd, 'GET', path);
    if (outcome.status === 204) return [];
    if (outcome.status === 200) return (outcome.body as { entries: ActivityEntry[] }).entries;
    if (attempt === 5) throw new Error(`daprd GET ${path} answered ${outcome.status ?? outcome.error}`);
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
}

export async function observe(
  target: Target,
  daprd: Target,
  dataDir: string,
  ids: string[],
): Promise<Map<string, Observed>> {
  const files = await notificationFiles(dataDir);
  const observed = new Map<string, Observed>();
  // A few at a time: enough to be quick, few enough not to load a stack that is recovering.
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        const [task, entries] = await Promise.all([read(target, `/tasks/${id}`), storedActivity(daprd, id)]);
        if (task.status !== 200 && task.status !== 404)
          throw new Error(`GET /tasks/${id} answered ${task.status ?? task.error}`);
        observed.set(id, {
          id,
          final:
            task.status === 200
              ? {
                  exists: true,
                  body: task.body as TaskBody,
                  ...(task.headers.etag ? { etag: task.headers.etag } : {}),
                }
              : { exists: false },
          entries,
          notifications: files.filter((f) => f.startsWith(`reminder-${id}-`)).length,
        });
      }
    }),
  );
  return observed;
}
