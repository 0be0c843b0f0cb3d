import { createRoute, z } from '@hono/zod-openapi';
import { defineFunction } from '../../tasks/app.ts';
import { problemResponses } from '../../tasks/http.ts';
import { ReminderChange, ReminderSync, syncReminder } from '../../tasks/reminders.ts';
import { TaskId } from '../../tasks/tasks.ts';

const route = createRoute({
  method: 'put',
  path: '/reminders/{taskId}',
  summary: "Keep a task's reminder job in step with the task",
  request: {
    params: z.strictObject({ taskId: TaskId.openapi({ param: { name: 'taskId', in: 'path' } }) }),
    body: { content: { 'application/json': { schema: ReminderSync } }, required: true },
  },
  responses: {
    200: {
      description: 'What changed',
      content: { 'application/json': { schema: z.object({ change: ReminderChange }) } },
    },
    ...problemResponses(400, 401, 503),
  },
});

/**
 * Schedules, moves or deletes the reminder job of a task, on this app's own
 * sidecar: a Dapr job fires only at the app-id that scheduled it, and
 * reminderJob lives here. onTaskEvent calls it by service invocation; it is
 * not part of the public API (daprd's app token, not the bearer token).
 */
export const scheduleReminder = defineFunction({
  name: 'scheduleReminder',
  trigger: { kind: 'http', route, caller: 'daprd' },
  handler: async (c) => {
    const { taskId } = c.req.valid('param');
    const deps = c.var.deps;
    // A scheduler or daprd that does not answer is the router's 503, and the caller's delivery is retried.
    return c.json({ change: await syncReminder(deps.dapr, taskId, c.req.valid('json'), deps.now()) }, 200);
  },
});
