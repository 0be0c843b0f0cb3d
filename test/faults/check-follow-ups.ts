import type { Observed, TaskBody } from './records.ts';

export interface FollowUpCheck {
  /** Expected and not (yet) there: a reminder whose remindAt is still ahead counts too, until it fires. */
  missing: number;
  duplicates: number;
  /** Reminders of tasks that were completed or deleted first, overdue events of tasks never past due. */
  unexpected: number;
  notes: string[];
}

/** Slack either side of remindAt within which a completion races the reminder: either outcome is right. */
export const RACE_MS = 1500;

/**
 * (c) Reminders and overdue events, from the task as it was last known
 * (the final GET, or the create's response for a deleted task) and when it
 * was finished: completed (completedAt) or deleted (its task.deleted event's
 * time, else when the DELETE was sent).
 *   - remindAt passed while open: one notification file and one task.reminder.
 *   - finished before remindAt: neither.
 *   - dueAt before the create and still open: one task.overdue; otherwise at most one.
 */
export function checkFollowUps(
  task: { known: TaskBody; finishedAt?: string; final: Observed['final'] },
  observed: Pick<Observed, 'entries' | 'notifications'>,
): FollowUpCheck {
  const result: FollowUpCheck = { missing: 0, duplicates: 0, unexpected: 0, notes: [] };
  const unique = [...new Map(observed.entries.map((e) => [e.eventId, e])).values()];
  const reminders = unique.filter((e) => e.type === 'task.reminder').length;
  const overdue = unique.filter((e) => e.type === 'task.overdue').length;
  const { remindAt, dueAt, createdAt } = task.known;
  const finished = task.finishedAt === undefined ? undefined : Date.parse(task.finishedAt);

  const exactlyOne = (what: string, count: number) => {
    if (count === 0) {
      result.missing += 1;
      result.notes.push(`no ${what}`);
    } else if (count > 1) {
      result.duplicates += count - 1;
      result.notes.push(`${count} × ${what}`);
    }
  };
  const atMostOne = (what: string, count: number) => {
    if (count > 1) {
      result.duplicates += count - 1;
      result.notes.push(`${count} × ${what}`);
    }
  };
  const none = (what: string, count: number, why: string) => {
    if (count > 0) {
      result.unexpected += count;
      result.notes.push(`${count} × ${what}, ${why}`);
    }
  };

  if (remindAt === undefined) {
    none('task.reminder', reminders, 'without remindAt');
    none('notification', observed.notifications, 'without remindAt');
  } else {
    const at = Date.parse(remindAt);
    if (finished !== undefined && finished < at - RACE_MS) {
      none('task.reminder', reminders, 'finished before remindAt');
      none('notification', observed.notifications, 'finished before remindAt');
    } else if (finished !== undefined && finished <= at + RACE_MS) {
      atMostOne('task.reminder', reminders);
      atMostOne('notification', observed.notifications);
    } else {
      exactlyOne('task.reminder', reminders);
      exactlyOne('notification', observed.notifications);
    }
  }

  const pastDue = dueAt !== undefined && dueAt < createdAt;
  if (!pastDue) none('task.overdue', overdue, 'not past due');
  else if (task.final.exists && task.final.body.status === 'open') exactlyOne('task.overdue', overdue);
  else atMostOne('task.overdue', overdue);
  return result;
}
