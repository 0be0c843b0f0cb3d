import { createRoute } from '@hono/zod-openapi';
import { defineFunction } from '../../tasks/app.ts';
import { problemResponses } from '../../tasks/http.ts';
import { ListTasksQuery, TaskPage } from '../../tasks/tasks.ts';

const route = createRoute({
  method: 'get',
  path: '/tasks',
  tags: ['tasks'],
  summary: 'List tasks',
  description:
    'Tasks in creation order, filtered by status, tag and dueBefore. Follow `nextCursor` until it is null; ' +
    'every task that exists for the whole walk is returned exactly once. A page may hold fewer than `limit` ' +
    'items when a filter matches rarely; keep following the cursor.',
  request: { query: ListTasksQuery },
  responses: {
    200: { description: 'A page of tasks', content: { 'application/json': { schema: TaskPage } } },
    ...problemResponses(400, 401, 503),
  },
});

export const listTasks = defineFunction({
  name: 'listTasks',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { status, tag, dueBefore, limit, cursor } = c.req.valid('query');
    const filter = { status, tag, dueBefore: dueBefore && new Date(dueBefore).toISOString() };
    return c.json(await c.var.deps.tasks.list(filter, limit, cursor), 200);
  },
});
