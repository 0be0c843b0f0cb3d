import { createRoute } from '@hono/zod-openapi';
import { Activity, readActivity } from '../../shared/activity.ts';
import { defineFunction } from '../../shared/function.ts';
import { problemResponses } from '../../shared/http.ts';
import { TaskIdParams } from '../../shared/tasks.ts';

const route = createRoute({
  method: 'get',
  path: '/tasks/{id}/activity',
  tags: ['tasks'],
  summary: "A task's event history",
  description: 'What onTaskEvent recorded, oldest first. It stays readable after the task is deleted.',
  request: { params: TaskIdParams },
  responses: {
    200: { description: 'The activity', content: { 'application/json': { schema: Activity } } },
    ...problemResponses(400, 401, 503),
  },
});

export const getTaskActivity = defineFunction({
  name: 'getTaskActivity',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { id } = c.req.valid('param');
    const { dapr, config } = c.var.deps;
    return c.json({ taskId: id, entries: await readActivity(dapr, config.STATE_STORE, id) }, 200);
  },
});
