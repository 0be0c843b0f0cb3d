import { z } from 'zod';
import type { DaprGateway, JobFailurePolicy } from '../shared/dapr.ts';
import type { Task } from './tasks.ts';

/** Reminder jobs are named `reminder-<taskId>`; reminderJob handles every job with this prefix. */
export const REMINDER_JOB_PREFIX = 'reminder-';
export const reminderJobName = (taskId: string) => `${REMINDER_JOB_PREFIX}${taskId}`;

/** The job's data: what the reminder is for, and the task version that scheduled it. */
export const ReminderJobData = z.strictObject({
  taskId: z.uuid(),
  remindAt: z.iso.datetime({ offset: true }),
  /** `updatedAt` of the task snapshot the job was scheduled from. */
  version: z.iso.datetime({ offset: true }),
});
export type ReminderJobData = z.infer<typeof ReminderJobData>;

/** A trigger the app did not acknowledge is retried every 10 s, for up to 5 minutes. */
export const REMINDER_FAILURE_POLICY: JobFailurePolicy = { constant: { interval: '10s', maxRetries: 30 } };

export const ReminderChange = z.enum(['scheduled', 'cancelled', 'unchanged', 'stale']);
export type ReminderChange = z.infer<typeof ReminderChange>;

/** What the reminder job of a task should follow: the task's state at `version`. */
export const ReminderSync = z.strictObject({
  status: z.enum(['open', 'done', 'deleted']),
  remindAt: z.iso.datetime({ offset: true }).optional(),
  /** The task's `updatedAt` (or `deletedAt`): orders the requests for one task. */
  version: z.iso.datetime({ offset: true }),
});
export type ReminderSync = z.infer<typeof ReminderSync>;

/**
 * A Dapr job belongs to the app-id that scheduled it and fires only there, so
 * the jobs are scheduled by the app that handles them (task-reminders, the
 * scheduleReminder function); onTaskEvent asks it by service invocation.
 */
export interface RemindersClient {
  sync(taskId: string, request: ReminderSync): Promise<ReminderChange>;
}

export function createRemindersClient(dapr: DaprGateway, appId: string): RemindersClient {
  return {
    async sync(taskId, request) {
      const response = await dapr.invokeMethod(appId, `reminders/${encodeURIComponent(taskId)}`, {
        httpMethod: 'PUT',
        body: request,
      });
      if (response.status !== 200)
        throw new Error(`PUT reminders/${taskId} on app ${appId} answered ${response.status}`);
      return ReminderChange.parse((response.body as { change?: unknown } | undefined)?.change);
    },
  };
}

/**
 * What a task's reminder job follows: its remindAt while it is open, nothing
 * once it is done or deleted (undefined). A write that leaves it as it was
 * leaves the job as it was: its event says so (extension `reminder:
 * unchanged`), and onTaskEvent then spares scheduleReminder the call.
 */
export const reminderTarget = (
  task: { status: Task['status'] | 'deleted'; remindAt?: string | undefined } | undefined,
): string | undefined => (task?.status === 'open' ? task.remindAt : undefined);

/** The extension attributes of a write's event from the task before and after it (undefined: deleted). */
export const reminderExtensions = (before: Task, after: Task | undefined): Record<string, string> =>
  reminderTarget(before) === reminderTarget(after) ? { reminder: 'unchanged' } : {};

/**
 * A reminder whose time passed while its event was on the way (a busy or
 * restarted consumer) still goes out, at once, within this window; an older
 * one is not sent.
 */
export const LATE_REMINDER_GRACE_MS = 15 * 60_000;

/**
 * Makes the scheduler's reminder job for a task match the task: a job at
 * `remindAt` while the task is open and `remindAt` is ahead (or passed less
 * than LATE_REMINDER_GRACE_MS ago: then the job is due at once), no job
 * otherwise. `version` orders the snapshots (the task's `updatedAt`, or its
 * `deletedAt`): a snapshot older than the one that scheduled the current job
 * changes nothing, so an event delivered late cannot move a reminder back.
 * Safe to repeat.
 */
export async function syncReminder(
  dapr: DaprGateway,
  taskId: string,
  { status, remindAt: wanted, version }: ReminderSync,
  now: Date,
): Promise<ReminderChange> {
  const name = reminderJobName(taskId);
  const job = await dapr.getJob(name);
  const current = job && ReminderJobData.safeParse(job.data);
  if (current?.success && current.data.version > version) return 'stale';

  const remindAt = reminderTarget({ status, remindAt: wanted });
  if (remindAt === undefined || Date.parse(remindAt) <= now.getTime() - LATE_REMINDER_GRACE_MS) {
    if (!job) return 'unchanged';
    await dapr.deleteJob(name);
    return 'cancelled';
  }
  if (current?.success && current.data.remindAt === remindAt) return 'unchanged';
  const data: ReminderJobData = { taskId, remindAt, version };
  await dapr.scheduleJob(
    name,
    {
      dueTime: Date.parse(remindAt) > now.getTime() ? remindAt : now.toISOString(),
      data,
      failurePolicy: REMINDER_FAILURE_POLICY,
    },
    { overwrite: true },
  );
  return 'scheduled';
}
