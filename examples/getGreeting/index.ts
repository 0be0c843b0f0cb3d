import { createRoute, z } from '@hono/zod-openapi';
import { problemResponses } from '../../shared/http.ts';
import { Problem } from '../../shared/problem.ts';
import { defineFunction } from '../app.ts';
import { Greeting, greetingKey } from '../greetings.ts';

const route = createRoute({
  method: 'get',
  path: '/greetings/{id}',
  tags: ['greetings'],
  summary: 'Read a greeting',
  request: { params: z.strictObject({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: {
    200: { description: 'The greeting', content: { 'application/json': { schema: Greeting } } },
    ...problemResponses(400, 401, 404, 503),
  },
});

export const getGreeting = defineFunction({
  name: 'getGreeting',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { dapr, config } = c.var.deps;
    const { id } = c.req.valid('param');
    const stored = await dapr.getState<Greeting>(config.STATE_STORE, greetingKey(id));
    if (!stored) throw new Problem(404, 'Not Found', `No greeting has the id ${id}.`);
    return c.json(stored.value, 200);
  },
});
