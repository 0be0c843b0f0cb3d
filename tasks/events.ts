import { z } from '@hono/zod-openapi';
import type { RuntimeConfig } from '../shared/config.ts';
import type { DaprGateway } from '../shared/dapr.ts';
import type { TaskConfig } from './config.ts';
import { Task, TaskId } from './tasks.ts';

/** CloudEvent types on the `task-events` topic. */
export const taskEventTypes = [
  'task.created',
  'task.updated',
  'task.completed',
  'task.deleted',
  'task.reminder',
  'task.overdue',
] as const;
export const TaskEventType = z.enum(taskEventTypes);
export type TaskEventType = z.infer<typeof TaskEventType>;

/** Data of task.created, task.updated and task.completed: the task after the write. */
export const TaskSnapshotData = Task;

export const TaskDeletedData = z.strictObject({ id: TaskId, deletedAt: z.iso.datetime({ offset: true }) });
export type TaskDeletedData = z.infer<typeof TaskDeletedData>;

/** The data of any event on `task-events`; every variant carries the task's id. */
export const TaskEventData = z.union([TaskSnapshotData, TaskDeletedData]);
export type TaskEventData = z.infer<typeof TaskEventData>;

/** Where onTaskEvent's undeliverable events go (its subscription's deadLetterTopic). */
export const TASK_EVENTS_DLQ = 'task-events-dlq';

/**
 * Publishes an event about a task that is not a write of it (task.reminder,
 * task.overdue) with a deterministic CloudEvent id, so publishing it again
 * after a crash is dropped by every consumer that dedupes by id.
 */
export async function publishTaskEvent(
  deps: {
    dapr: DaprGateway;
    config: Pick<RuntimeConfig, 'PUBSUB' | 'APP_ID'>;
    taskConfig: Pick<TaskConfig, 'TASK_EVENTS_TOPIC'>;
  },
  type: Extract<TaskEventType, 'task.reminder' | 'task.overdue'>,
  task: Task,
  occurrence: string,
): Promise<string> {
  const id = `${type}:${task.id}:${occurrence}`;
  await deps.dapr.publishCloudEvent(
    deps.config.PUBSUB,
    deps.taskConfig.TASK_EVENTS_TOPIC,
    { id, type, source: deps.config.APP_ID, subject: task.id, data: task },
    { metadata: { partitionKey: task.id } },
  );
  return id;
}
