import { z } from '@hono/zod-openapi';
import type { DaprGateway } from './dapr.ts';
import { TaskEventType } from './events.ts';
import { saveWithEtag } from './guarded-save.ts';

export const ActivityEntry = z
  .object({
    eventId: z.string(),
    type: TaskEventType,
    time: z.string().openapi({ description: "The event's time: for a write, the task's updatedAt after it" }),
    revision: z.number().int().min(1).optional().openapi({
      description: "For a write: the task's revision after it (1 when created, then +1 per write)",
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

/**
 * A task's activity history: one state key per task holding its entries in
 * the order onTaskEvent handled the events. `task-events` is keyed by task
 * id and the outbox publishes a task's writes in write order, so the history
 * is in write order without sorting: the integration and fault tests rely on
 * that to show the order holds end to end. The entries double as the dedupe
 * record: an event whose id is already there changes nothing.
 */
export async function recordActivity(dapr: DaprGateway, store: string, taskId: string, entry: ActivityEntry) {
  return saveWithEtag<z.infer<typeof Stored>>(dapr, store, activityKey(taskId), (stored) => {
    const entries = stored ? Stored.parse(stored.value).entries : [];
    if (entries.some((e) => e.eventId === entry.eventId)) return undefined;
    return { entries: [...entries, entry].slice(-MAX_ENTRIES) };
  });
}

export async function readActivity(
  dapr: DaprGateway,
  store: string,
  taskId: string,
): Promise<ActivityEntry[]> {
  const stored = await dapr.getState(store, activityKey(taskId));
  return stored ? Stored.parse(stored.value).entries : [];
}
