import { createRoute } from '@hono/zod-openapi';
import { fromIfMatch, IfMatchHeader, toEntityTag } from '../../shared/http.ts';
import { defineFunction } from '../../tasks/app.ts';
import { problemResponses, taskResponse } from '../../tasks/http.ts';
import { completeTask as markDone, TaskIdParams } from '../../tasks/tasks.ts';

const route = createRoute({
  method: 'post',
  path: '/tasks/{id}/complete',
  tags: ['tasks'],
  summary: 'Mark a task done',
  description: 'Idempotent: completing a done task changes nothing and publishes nothing.',
  request: { params: TaskIdParams, headers: IfMatchHeader },
  responses: { 200: taskResponse('The completed task'), ...problemResponses(400, 401, 404, 412, 503) },
});

export const completeTask = defineFunction({
  name: 'completeTask',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { tasks, now } = c.var.deps;
    const { id } = c.req.valid('param');
    const ifMatch = fromIfMatch(c.req.valid('header')['if-match']);
    const stored = await tasks.update(
      id,
      (task) => markDone(task, now()),
      () => 'task.completed',
      ifMatch,
    );
    c.header('etag', toEntityTag(stored.etag));
    return c.json(stored.task, 200);
  },
});
