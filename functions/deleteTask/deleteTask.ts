import { createRoute } from '@hono/zod-openapi';
import { fromIfMatch, IfMatchHeader } from '../../shared/http.ts';
import { defineFunction } from '../../tasks/app.ts';
import { problemResponses } from '../../tasks/http.ts';
import { TaskIdParams } from '../../tasks/tasks.ts';

const route = createRoute({
  method: 'delete',
  path: '/tasks/{id}',
  tags: ['tasks'],
  summary: 'Delete a task',
  description: 'Replaces the task by its tombstone, which holds task.deleted until it is published.',
  request: { params: TaskIdParams, headers: IfMatchHeader },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 404, 412, 503) },
});

export const deleteTask = defineFunction({
  name: 'deleteTask',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { tasks, now } = c.var.deps;
    const { id } = c.req.valid('param');
    await tasks.remove(id, now(), fromIfMatch(c.req.valid('header')['if-match']));
    return c.body(null, 204);
  },
});
