import { createRoute } from '@hono/zod-openapi';
import { Activity, readActivity } from '../../tasks/activity.ts';
import { defineFunction } from '../../tasks/app.ts';
import { problemResponses } from '../../tasks/http.ts';
import { taskNotFound } from '../../tasks/task-store.ts';
import { TaskIdParams } from '../../tasks/tasks.ts';

const route = createRoute({
  method: 'get',
  path: '/tasks/{id}/activity',
  tags: ['tasks'],
  summary: "A task's event history",
  description:
    'What onTaskEvent recorded, oldest first, while the task exists: like the task, its activity is 404 once the task is deleted (the history stays in the store, `task-activity|<id>`, for an operator).',
  request: { params: TaskIdParams },
  responses: {
    200: { description: 'The activity', content: { 'application/json': { schema: Activity } } },
    ...problemResponses(400, 401, 404, 503),
  },
});

export const getTaskActivity = defineFunction({
  name: 'getTaskActivity',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { id } = c.req.valid('param');
    const { dapr, config, tasks } = c.var.deps;
    const [stored, entries] = await Promise.all([tasks.get(id), readActivity(dapr, config.STATE_STORE, id)]);
    if (!stored) throw taskNotFound(id);
    return c.json({ taskId: id, entries }, 200);
  },
});
