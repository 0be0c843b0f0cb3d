import { z } from '@hono/zod-openapi';
import type { DaprGateway } from '../shared/dapr.ts';
import { saveWithEtag, trySave } from '../shared/guarded-save.ts';
import { TaskEventType } from './events.ts';

export const ActivityEntry = z
  .object({
    eventId: z.string(),
    type: TaskEventType,
    time: z.string().openapi({ description: "The event's time: for a write, the task's updatedAt after it" }),
    revision: z.number().int().min(1).optional().openapi({
      description: "For a write: the task's revision after it (1 when created, then +1 per write)",
    }),
    handledAt: z.string().optional().openapi({
      description: 'When onTaskEvent had done what the event asks (the reminder, the due index)',
    }),
  })
  .openapi('ActivityEntry');
export type ActivityEntry = z.infer<typeof ActivityEntry>;

export const Activity = z.object({ taskId: z.string(), entries: z.array(ActivityEntry) }).openapi('Activity');

const Stored = z.object({ entries: z.array(ActivityEntry) });
/** The state key of a task's history (the fault tests read it directly once the task is deleted). */
export const activityKey = (taskId: string) => `task-activity|${taskId}`;
/** Entries kept per task; the oldest go first. */
export const MAX_ENTRIES = 200;

/** A task's history as read, with the etag that guards the next append. */
export interface History {
  entries: ActivityEntry[];
  etag?: string;
}

/**
 * A task's activity history: one state key per task holding its entries in
 * the order onTaskEvent handled the events. `task-events` is keyed by task
 * id and the outbox publishes a task's writes in write order, so the history
 * is in write order without sorting: the integration and fault tests rely on
 * that to show the order holds end to end.
 *
 * The entries double as onTaskEvent's record of what it has done: an entry
 * is appended after the event's work, and an event whose id is among the
 * entries is a duplicate. So a duplicate is recognised while its original
 * is among the task's last MAX_ENTRIES events, far longer than a broker's
 * redelivery or the outbox's re-publish after a crash takes.
 */
export async function readHistory(dapr: DaprGateway, store: string, taskId: string): Promise<History> {
  const stored = await dapr.getState(store, activityKey(taskId));
  return stored ? { entries: Stored.parse(stored.value).entries, etag: stored.etag } : { entries: [] };
}

export const hasEntry = (history: History, eventId: string) =>
  history.entries.some((e) => e.eventId === eventId);

/**
 * Appends `entry` to the history, saved with the etag of `read` (the history
 * as the caller read it) and, when another append came in between, read
 * and tried again. Returns false when the entry was there already.
 */
export async function appendActivity(
  dapr: DaprGateway,
  store: string,
  taskId: string,
  entry: ActivityEntry,
  read?: History,
): Promise<boolean> {
  const key = activityKey(taskId);
  const next = (entries: ActivityEntry[]) => ({ entries: [...entries, entry].slice(-MAX_ENTRIES) });
  if (read && !hasEntry(read, entry.eventId)) {
    const guard =
      read.etag === undefined ? { options: { concurrency: 'first-write' as const } } : { etag: read.etag };
    if (await trySave(dapr, store, { key, value: next(read.entries), ...guard })) return true;
  }
  return saveWithEtag<z.infer<typeof Stored>>(dapr, store, key, (stored) => {
    const entries = stored ? Stored.parse(stored.value).entries : [];
    return entries.some((e) => e.eventId === entry.eventId) ? undefined : next(entries);
  });
}

export async function readActivity(
  dapr: DaprGateway,
  store: string,
  taskId: string,
): Promise<ActivityEntry[]> {
  return (await readHistory(dapr, store, taskId)).entries;
}
