import type { AppDefinition } from '../shared/app.ts';
import { functionsFor } from '../shared/function.ts';
import { loadTaskConfig, type TaskConfig, taskRuntimeDefaults } from './config.ts';
import { taskEventTopic } from './events.ts';
import { zeroTaskCounters } from './metrics.ts';
import { createRemindersClient, type RemindersClient } from './reminders.ts';
import { TaskStore } from './task-store.ts';
import { createTasksApi, type TasksApi } from './tasks-client.ts';

/** What the Task API's functions see beside the runtime's parts (`Deps<TaskContext>`). */
export interface TaskContext {
  /** The Task API's own settings (tasks/config.ts). */
  taskConfig: TaskConfig;
  tasks: TaskStore;
  /** The Task API through service invocation, for functions that do not own task state. */
  tasksApi: TasksApi;
  /** The reminder jobs, kept by the app that owns them (service invocation). */
  reminders: RemindersClient;
}

/** `defineFunction` for the Task API's functions: their handlers see `Deps<TaskContext>`. */
export const defineFunction = functionsFor<TaskContext>();

/** The Task API on the runtime: every app of apps.ts runs with this context. */
export const taskApp: AppDefinition<TaskContext> = {
  title: 'Tasks on Dapr',
  version: '0.1.0',
  description: 'A Task API built as functions on the Dapr sidecar. Errors are RFC 9457 problem details.',
  defaults: taskRuntimeDefaults,
  context: ({ config, dapr, log, env, apiToken }) => {
    const taskConfig = loadTaskConfig(env);
    return {
      taskConfig,
      tasks: TaskStore.create(dapr, config, log),
      tasksApi: createTasksApi(dapr, taskConfig.TASKS_API_APP_ID ?? config.APP_ID, apiToken),
      reminders: createRemindersClient(dapr, taskConfig.REMINDERS_APP_ID ?? config.APP_ID),
    };
  },
  events: [taskEventTopic],
  settled: (context) => context.tasks.settled(),
  subjectAttribute: 'task.id',
  zeroCounters: zeroTaskCounters,
};
