import { createRoute } from '@hono/zod-openapi';
import { toEntityTag } from '../../shared/http.ts';
import { defineFunction } from '../../tasks/app.ts';
import { problemResponses, taskResponse } from '../../tasks/http.ts';
import { taskNotFound } from '../../tasks/task-store.ts';
import { TaskIdParams } from '../../tasks/tasks.ts';

const route = createRoute({
  method: 'get',
  path: '/tasks/{id}',
  tags: ['tasks'],
  summary: 'Read a task',
  request: { params: TaskIdParams },
  responses: { 200: taskResponse('The task'), ...problemResponses(400, 401, 404, 503) },
});

export const getTask = defineFunction({
  name: 'getTask',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { id } = c.req.valid('param');
    const stored = await c.var.deps.tasks.get(id);
    if (!stored) throw taskNotFound(id);
    c.header('etag', toEntityTag(stored.etag));
    return c.json(stored.task, 200);
  },
});
