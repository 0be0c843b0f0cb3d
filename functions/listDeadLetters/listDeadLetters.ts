import { createRoute } from '@hono/zod-openapi';
import { defineFunction } from '../../tasks/app.ts';
import { DeadLetters, readDeadLetters } from '../../tasks/dead-letters.ts';
import { problemResponses } from '../../tasks/http.ts';

const route = createRoute({
  method: 'get',
  path: '/dead-letters',
  tags: ['operations'],
  summary: 'Events that could not be handled',
  description:
    'The newest 100 events onTaskEvent dropped to `task-events-dlq` (their data did not fit their type), oldest first.',
  responses: {
    200: { description: 'The dead letters', content: { 'application/json': { schema: DeadLetters } } },
    ...problemResponses(401, 503),
  },
});

export const listDeadLetters = defineFunction({
  name: 'listDeadLetters',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { dapr, config } = c.var.deps;
    return c.json({ items: await readDeadLetters(dapr, config.STATE_STORE) }, 200);
  },
});
