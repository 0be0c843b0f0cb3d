import type { EventContext, TopicEvent } from '../../shared/function.ts';
import { appendActivity, hasEntry, readHistory } from '../../tasks/activity.ts';
import { defineFunction, type TaskContext } from '../../tasks/app.ts';
import { DueIndex } from '../../tasks/due-index.ts';
import {
  TASK_EVENTS,
  TASK_EVENTS_DLQ,
  TaskDeletedData,
  TaskEventData,
  TaskEventType,
} from '../../tasks/events.ts';
import { countEventProcessed } from '../../tasks/metrics.ts';
import { Task } from '../../tasks/tasks.ts';

/**
 * Consumes `task-events`, once per CloudEvent id however often an event is
 * delivered:
 * - keeps the task's reminder job in step with the task (schedule, move,
 *   cancel), through scheduleReminder in task-reminders, which owns the jobs,
 *   unless the write's event says it left what the reminder follows as it
 *   was (`reminder: unchanged`, tasks/reminders.ts);
 * - adds an open task's due date to the due index the overdue sweep reads;
 * - then records the event in its task's activity history, which is also
 *   the record that it was handled: an event already there is a duplicate
 *   and changes nothing. A read of the history and its save, two state calls
 *   per event besides the reminder's; one for a new task's event with no
 *   reminder and no due date (most creates), whose history is empty unless
 *   it is a redelivery: its save is first-write, and a redelivery's fails.
 * Each step is safe to repeat, so a delivery cut short is simply redone.
 * An event whose type or data can never be handled is dropped to
 * `task-events-dlq`; a failure throws, which daprd answers with a redelivery.
 */
export const onTaskEvent = defineFunction({
  name: 'onTaskEvent',
  trigger: { kind: 'topic', topic: TASK_EVENTS, data: TaskEventData, deadLetterTopic: TASK_EVENTS_DLQ },
  handler: async (event, ctx) => {
    const { deps, log } = ctx;
    const type = TaskEventType.safeParse(event.type);
    if (!type.success) {
      log.warn('event dropped: unknown type', { eventId: event.id, type: event.type });
      return 'DROP';
    }
    const deleted = type.data === 'task.deleted';
    const data = (deleted ? TaskDeletedData : Task).safeParse(event.data);
    if (!data.success) {
      log.warn('event dropped: its data does not fit its type', { eventId: event.id, type: event.type });
      return 'DROP';
    }
    const { dapr, config } = deps;
    const taskId = data.data.id;
    const work = workOf(event, type.data, ctx);
    // Work to do: the history is read first, so that a redelivery does none. None: a new task's history is
    // empty but for a redelivery of this very event, which the first-write save of the entry then tells.
    const history =
      work || type.data !== 'task.created'
        ? await readHistory(dapr, config.STATE_STORE, taskId)
        : { entries: [] };
    if (hasEntry(history, event.id)) {
      log.info('duplicate event ignored', { eventId: event.id });
      return 'SUCCESS';
    }
    await work?.();
    // A write's event carries the task's revision after it (the outbox's `seq`).
    const revision = Number(event.extensions.seq);
    const entry = {
      eventId: event.id,
      type: type.data,
      time: event.time ?? deps.now().toISOString(),
      ...(Number.isSafeInteger(revision) && revision >= 1 ? { revision } : {}),
      handledAt: deps.now().toISOString(),
    };
    if (await appendActivity(dapr, config.STATE_STORE, taskId, entry, history))
      countEventProcessed(type.data);
    else log.info('duplicate event ignored', { eventId: event.id });
    return 'SUCCESS';
  },
});

/** What the event asks besides its record (the reminder, the due index), or undefined for nothing. */
function workOf(
  event: TopicEvent<TaskEventData>,
  type: TaskEventType,
  { deps, log }: EventContext<TaskContext>,
): (() => Promise<void>) | undefined {
  const { dapr, config } = deps;
  // task.reminder and task.overdue are about a task, not writes of it: nothing else to keep in step.
  if (type === 'task.reminder' || type === 'task.overdue') return undefined;
  // The writer saw the task before and after: a write that left what the reminder follows as it was
  // leaves the job as the event before it left it (a task's events are handled in order).
  const kept = event.extensions.reminder === 'unchanged';
  if ('deletedAt' in event.data) {
    if (kept) return undefined;
    const { id, deletedAt } = event.data;
    return async () => {
      const change = await deps.reminders.sync(id, { status: 'deleted', version: deletedAt });
      if (change !== 'unchanged') log.info(`reminder ${change}`, { taskId: id, eventId: event.id });
    };
  }
  const task = event.data;
  // A new task without remindAt has no job to schedule or cancel: spare the scheduler the lookup.
  const reminder = !kept && (type !== 'task.created' || Boolean(task.remindAt));
  const dueAt = task.status === 'open' ? task.dueAt : undefined;
  if (!reminder && !dueAt) return undefined;
  return async () => {
    if (reminder) {
      const change = await deps.reminders.sync(task.id, {
        status: task.status,
        ...(task.remindAt ? { remindAt: task.remindAt } : {}),
        version: task.updatedAt,
      });
      if (change !== 'unchanged')
        log.info(`reminder ${change}`, { taskId: task.id, remindAt: task.remindAt, eventId: event.id });
    }
    if (dueAt) await new DueIndex(dapr, config.STATE_STORE).add(task.id, dueAt, deps.now());
  };
}
