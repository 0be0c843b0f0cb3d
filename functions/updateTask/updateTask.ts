import { createRoute } from '@hono/zod-openapi';
import { fromIfMatch, IfMatchHeader, jsonBody, toEntityTag } from '../../shared/http.ts';
import { defineFunction } from '../../tasks/app.ts';
import { problemResponses, taskResponse } from '../../tasks/http.ts';
import { applyUpdate, TaskIdParams, UpdateTaskBody } from '../../tasks/tasks.ts';

const route = createRoute({
  method: 'patch',
  path: '/tasks/{id}',
  tags: ['tasks'],
  summary: 'Change fields of a task',
  description:
    'Absent fields stay; `null` clears description, dueAt or remindAt. With If-Match the change applies only ' +
    'to that version (412 otherwise); without it, concurrent changes are merged field by field.',
  request: { params: TaskIdParams, headers: IfMatchHeader, body: jsonBody(UpdateTaskBody) },
  responses: {
    200: taskResponse('The task after the change'),
    ...problemResponses(400, 401, 404, 412, 413, 415, 503),
  },
});

export const updateTask = defineFunction({
  name: 'updateTask',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { tasks, now } = c.var.deps;
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const stored = await tasks.update(
      id,
      (task) => applyUpdate(task, body, now()),
      () => 'task.updated',
      fromIfMatch(c.req.valid('header')['if-match']),
    );
    c.header('etag', toEntityTag(stored.etag));
    return c.json(stored.task, 200);
  },
});
