import { completeTask } from './functions/completeTask/index.ts';
import { createTask } from './functions/createTask/index.ts';
import { cronBinding } from './functions/cronBinding/index.ts';
import { deleteTask } from './functions/deleteTask/index.ts';
import { getTask } from './functions/getTask/index.ts';
import { getTaskActivity } from './functions/getTaskActivity/index.ts';
import { listDeadLetters } from './functions/listDeadLetters/index.ts';
import { listTasks } from './functions/listTasks/index.ts';
import { onDeadLetter } from './functions/onDeadLetter/index.ts';
import { onTaskEvent } from './functions/onTaskEvent/index.ts';
import { outboxSweep } from './functions/outboxSweep/index.ts';
import { reminderJob } from './functions/reminderJob/index.ts';
import { scheduleReminder } from './functions/scheduleReminder/index.ts';
import { updateTask } from './functions/updateTask/index.ts';
import { type AppTable, allFunctionsOf, selectFunctions as selectFrom } from './shared/app.ts';
import type { FunctionDefinition } from './shared/function.ts';
import type { TaskContext } from './tasks/app.ts';

/**
 * Which functions ship together: one entry is one bundle, one Dapr app-id and
 * one Kubernetes Deployment. The embedded default runs all of them as one app.
 * task-reminders and task-cron read tasks through the Task API (service
 * invocation on tasks-api); only tasks-api writes them. Reminder jobs are
 * scheduled by task-reminders (scheduleReminder), the app they fire at:
 * onTaskEvent asks it by service invocation. tasks-api publishes each
 * write's event after its save and sweeps up what a crash left (outboxSweep).
 */
export const apps = {
  'tasks-api': [
    createTask,
    getTask,
    listTasks,
    updateTask,
    completeTask,
    deleteTask,
    getTaskActivity,
    listDeadLetters,
    outboxSweep,
  ],
  'task-events': [onTaskEvent, onDeadLetter],
  'task-reminders': [reminderJob, scheduleReminder],
  'task-cron': [cronBinding],
} as const satisfies AppTable<TaskContext>;

export type AppName = keyof typeof apps;

export const allFunctions: readonly FunctionDefinition<TaskContext>[] = allFunctionsOf(apps);

/** The functions of an app, of a single function by name, or of `all` (the embedded default). */
export const selectFunctions = (name: string) => selectFrom(apps, name);
