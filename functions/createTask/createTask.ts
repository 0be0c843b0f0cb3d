import { createRoute } from '@hono/zod-openapi';
import { jsonBody, toEntityTag } from '../../shared/http.ts';
import { defineFunction } from '../../tasks/app.ts';
import { problemResponses, taskResponse } from '../../tasks/http.ts';
import { countTaskCreated } from '../../tasks/metrics.ts';
import { CreateTaskBody, newTask } from '../../tasks/tasks.ts';

const route = createRoute({
  method: 'post',
  path: '/tasks',
  tags: ['tasks'],
  summary: 'Create a task',
  description:
    'Saves the task, with its task.created event in the same record, in one etag-guarded save; the event is ' +
    'published after the save (the outbox, docs/EVENTS.md). The ETag is the task’s revision.',
  request: { body: jsonBody(CreateTaskBody) },
  responses: {
    201: taskResponse('The created task; Location names it'),
    ...problemResponses(400, 401, 413, 415, 503),
  },
});

export const createTask = defineFunction({
  name: 'createTask',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { tasks, now, newId } = c.var.deps;
    const stored = await tasks.create(newTask(newId(), c.req.valid('json'), now()));
    countTaskCreated();
    c.header('location', `/tasks/${stored.task.id}`);
    c.header('etag', toEntityTag(stored.etag));
    return c.json(stored.task, 201);
  },
});
