import { z } from '@hono/zod-openapi';
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
