import { completeTask } from './functions/completeTask/index.ts';
import { createTask } from './functions/createTask/index.ts';
import { deleteTask } from './functions/deleteTask/index.ts';
import { getTask } from './functions/getTask/index.ts';
import { getTaskActivity } from './functions/getTaskActivity/index.ts';
import { listTasks } from './functions/listTasks/index.ts';
import { onTaskEvent } from './functions/onTaskEvent/index.ts';
import { updateTask } from './functions/updateTask/index.ts';
import type { FunctionDefinition } from './shared/function.ts';

/**
 * Which functions ship together: one entry is one bundle, one Dapr app-id and
 * one Kubernetes Deployment. The embedded default runs all of them as one app.
 *
 * task-reminders (reminderJob) and task-cron (cronBinding) join this table
 * with the rest of the event-driven functions.
 */
export const apps = {
  'tasks-api': [createTask, getTask, listTasks, updateTask, completeTask, deleteTask, getTaskActivity],
  'task-events': [onTaskEvent],
} as const satisfies Record<string, readonly FunctionDefinition[]>;

export type AppName = keyof typeof apps;

export const allFunctions: readonly FunctionDefinition[] = [...new Set(Object.values(apps).flat())];

/** The functions of an app, of a single function by name, or of `all` (the embedded default). */
export function selectFunctions(name: string): readonly FunctionDefinition[] | undefined {
  if (name === 'all') return allFunctions;
  if (name in apps) return apps[name as AppName];
  const single = allFunctions.find((fn) => fn.name === name);
  return single && [single];
}
