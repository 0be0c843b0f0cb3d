import { ONCE_TTL_SECONDS, once } from '../../shared/once.ts';
import { defineFunction } from '../../tasks/app.ts';
import { publishTaskEvent } from '../../tasks/events.ts';
import { REMINDER_JOB_PREFIX, ReminderJobData } from '../../tasks/reminders.ts';
import type { Task } from '../../tasks/tasks.ts';

/** What the `notifications` output binding delivers: one JSON document per reminder. */
export interface ReminderNotification {
  kind: 'task.reminder';
  taskId: string;
  title: string;
  remindAt: string;
  dueAt?: string;
  priority: Task['priority'];
  sentAt: string;
}

/**
 * Fires at a task's `remindAt` (a Dapr job scheduled by onTaskEvent). It
 * reads the task through the Task API (service invocation: this function
 * does not own task state); if the task is still open and the reminder is
 * still the one asked for, it sends one notification through the
 * `notifications` output binding and publishes `task.reminder`.
 *
 * A job that fires twice sends once: a sent-record per task and `remindAt`
 * is written after both succeed, and both are repeatable on their own (the
 * notification's file name and Idempotency-Key, and the event's id, are
 * derived from the task and `remindAt`). A throw makes the scheduler retry.
 */
export const reminderJob = defineFunction({
  name: 'reminderJob',
  trigger: {
    kind: 'job',
    prefix: REMINDER_JOB_PREFIX,
    data: ReminderJobData,
    subject: (data) => data.taskId,
  },
  handler: async ({ data }, { deps, log }) => {
    const task = await deps.tasksApi.getTask(data.taskId);
    if (task?.status !== 'open' || task.remindAt !== data.remindAt) {
      log.info('reminder no longer due', {
        taskId: data.taskId,
        remindAt: data.remindAt,
        status: task?.status,
      });
      return;
    }
    const key = `reminder-${task.id}-${data.remindAt.replace(/[^0-9A-Za-z]/g, '')}`;
    const outcome = await once(
      deps.dapr,
      deps.config.STATE_STORE,
      `reminder-sent|${task.id}|${data.remindAt}`,
      ONCE_TTL_SECONDS,
      async () => {
        const notification: ReminderNotification = {
          kind: 'task.reminder',
          taskId: task.id,
          title: task.title,
          remindAt: data.remindAt,
          ...(task.dueAt ? { dueAt: task.dueAt } : {}),
          priority: task.priority,
          sentAt: deps.now().toISOString(),
        };
        // `create` writes a file with bindings.localstorage and POSTs with bindings.http.
        // `fileName` is read by localstorage; capitalised keys are request headers for http.
        await deps.dapr.invokeBinding(deps.taskConfig.NOTIFICATIONS_BINDING, 'create', notification, {
          fileName: `${key}.json`,
          'Idempotency-Key': key,
        });
        await publishTaskEvent(deps, 'task.reminder', task, data.remindAt);
        log.info('reminder sent', { taskId: task.id, remindAt: data.remindAt });
        return true;
      },
    );
    if (outcome === 'duplicate')
      log.info('reminder already sent', { taskId: task.id, remindAt: data.remindAt });
  },
});
