import { z } from 'zod';
import type { DaprGateway, JobFailurePolicy } from './dapr.ts';
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

export type ReminderChange = 'scheduled' | 'cancelled' | 'unchanged' | 'stale';

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
  task: Pick<Task, 'id' | 'status' | 'remindAt'> | { id: string; deleted: true },
  version: string,
  now: Date,
): Promise<ReminderChange> {
  const name = reminderJobName(task.id);
  const job = await dapr.getJob(name);
  const current = job && ReminderJobData.safeParse(job.data);
  if (current?.success && current.data.version > version) return 'stale';

  const remindAt = 'deleted' in task || task.status !== 'open' ? undefined : task.remindAt;
  if (remindAt === undefined || Date.parse(remindAt) <= now.getTime() - LATE_REMINDER_GRACE_MS) {
    if (!job) return 'unchanged';
    await dapr.deleteJob(name);
    return 'cancelled';
  }
  if (current?.success && current.data.remindAt === remindAt) return 'unchanged';
  const data: ReminderJobData = { taskId: task.id, remindAt, version };
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
