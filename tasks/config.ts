import { z } from 'zod';
import { type Env, loadSettings, type RuntimeSetting } from '../shared/config.ts';

/** The Task API's own settings, validated beside the runtime's (shared/config.ts). */
export const taskConfigSchema = z.object({
  /** The app-id of the Task API, for functions that read tasks by service invocation; defaults to APP_ID. */
  TASKS_API_APP_ID: z.string().min(1).optional(),
  /** The app-id of task-reminders, which owns the reminder jobs; defaults to APP_ID. */
  REMINDERS_APP_ID: z.string().min(1).optional(),
  /** Output binding that delivers notifications (`create`: a file for localstorage, a POST for http). */
  NOTIFICATIONS_BINDING: z.string().min(1).default('notifications'),
});

export type TaskConfig = z.infer<typeof taskConfigSchema>;

export const loadTaskConfig = (env: Env): TaskConfig => loadSettings(taskConfigSchema, env);

/** The runtime settings whose defaults the Task API chooses (the environment still wins). */
export const taskRuntimeDefaults = {
  APP_ID: 'tasks',
  API_TOKEN_SECRET: 'tasks-api-token',
} as const satisfies Partial<Record<RuntimeSetting, string>>;
