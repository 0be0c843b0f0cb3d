import { z } from '@hono/zod-openapi';
import type { EventMessage, EventTopic } from '../shared/asyncapi.ts';
import type { RuntimeConfig } from '../shared/config.ts';
import type { DaprGateway } from '../shared/dapr.ts';
import { Task, TaskId } from './tasks.ts';

/**
 * The topic of every task's events: the writes', the reminders' and the
 * overdue notices'. onTaskEvent subscribes to it by this name, so it is not a
 * setting: a publisher on another topic would have no subscriber.
 */
export const TASK_EVENTS = 'task-events';

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

/** The revision a write's event carries (extension attribute `seq`): 1 when created, +1 per write. */
const seq = z
  .string()
  .regex(/^[1-9][0-9]*$/)
  .describe("The task's revision after the write (its ETag): 1 when created, then +1 per write");

/** Present when the write left what the task's reminder follows (remindAt while open) as it was. */
const reminder = z
  .literal('unchanged')
  .optional()
  .describe(
    "Set when the write left what the task's reminder follows (its remindAt while open; none once done or deleted) as it was: its reminder job needs no change",
  );

const write = (
  type: Extract<TaskEventType, 'task.created' | 'task.updated' | 'task.completed' | 'task.deleted'>,
  publisher: string,
  summary: string,
): EventMessage => ({
  type,
  summary: `${summary} The id is <task id>:<revision>.`,
  ...(type === 'task.deleted'
    ? { dataName: 'TaskDeleted', data: TaskDeletedData }
    : { dataName: 'Task', data: TaskSnapshotData }),
  extensions: type === 'task.created' ? { seq } : { seq, reminder },
  // The sweep publishes what a crash left unpublished, as the writer would have.
  publishers: [publisher, 'outboxSweep'],
});

/** `task-events` as /asyncapi.json describes it: every type, its data and its publishers. */
export const taskEventTopic: EventTopic = {
  topic: TASK_EVENTS,
  description:
    "Every acknowledged write of a task has exactly one event here, published after the write's save, in write order per task; reminders and overdue notices too. A crash can make a second copy with the same id: consumers drop ids they have handled.",
  key: "The task id: a task's events share a partition and keep their order",
  messages: [
    write('task.created', 'createTask', 'A task was created; data is the task.'),
    write('task.updated', 'updateTask', 'A task was changed (PATCH); data is the task after the write.'),
    write('task.completed', 'completeTask', 'A task was completed; data is the task after the write.'),
    write('task.deleted', 'deleteTask', 'A task was deleted; data is its id and when.'),
    {
      type: 'task.reminder',
      summary:
        "A task's reminder is due (its reminder job fired); data is the task. The id is task.reminder:<task id>:<remindAt>.",
      dataName: 'Task',
      data: TaskSnapshotData,
      publishers: ['reminderJob'],
    },
    {
      type: 'task.overdue',
      summary:
        'An open task passed its dueAt (the due-index sweep); data is the task. The id is task.overdue:<task id>:<dueAt>.',
      dataName: 'Task',
      data: TaskSnapshotData,
      publishers: ['cronBinding'],
    },
  ],
};

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
  },
  type: Extract<TaskEventType, 'task.reminder' | 'task.overdue'>,
  task: Task,
  occurrence: string,
): Promise<string> {
  const id = `${type}:${task.id}:${occurrence}`;
  await deps.dapr.publishCloudEvent(
    deps.config.PUBSUB,
    TASK_EVENTS,
    { id, type, source: deps.config.APP_ID, subject: task.id, data: task },
    { metadata: { partitionKey: task.id } },
  );
  return id;
}
