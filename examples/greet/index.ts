import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, problemResponses } from '../../shared/http.ts';
import { defineFunction } from '../app.ts';
import { followUpJobName, GREETINGS_TOPIC, Greeting, greetingKey } from '../greetings.ts';

const GreetBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  followUpAt: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'When to send a follow-up (a Dapr job fires then)' }),
});

const route = createRoute({
  method: 'post',
  path: '/greetings',
  tags: ['greetings'],
  summary: 'Greet someone',
  request: { body: jsonBody(GreetBody) },
  responses: {
    201: {
      description: 'The greeting; Location names it',
      content: { 'application/json': { schema: Greeting } },
    },
    ...problemResponses(400, 401, 413, 415, 503),
  },
});

/**
 * Saves a greeting, schedules its follow-up job when one is asked for, and
 * publishes `greeting.created`, whose CloudEvent id comes from the greeting's
 * id, so that a consumer drops a repeat. The save and the publish are two
 * calls: a publish that fails answers 503 and leaves the greeting without
 * its event (the Task API closes that gap with its outbox, docs/EVENTS.md).
 */
export const greet = defineFunction({
  name: 'greet',
  trigger: { kind: 'http', route },
  handler: async (c) => {
    const { dapr, config, now, newId } = c.var.deps;
    const { name, followUpAt } = c.req.valid('json');
    const greeting: Greeting = { id: newId(), name, at: now().toISOString() };
    await dapr.saveState(config.STATE_STORE, [
      { key: greetingKey(greeting.id), value: greeting, options: { concurrency: 'first-write' } },
    ]);
    if (followUpAt) {
      // The job fires at this app (POST /job/<name>), so followUp ships in the same app as greet.
      await dapr.scheduleJob(
        followUpJobName(greeting.id),
        {
          dueTime: followUpAt,
          data: { greetingId: greeting.id },
          failurePolicy: { constant: { interval: '10s', maxRetries: 30 } },
        },
        { overwrite: true },
      );
    }
    await dapr.publishCloudEvent(config.PUBSUB, GREETINGS_TOPIC, {
      id: `greeting.created:${greeting.id}`,
      type: 'greeting.created',
      source: config.APP_ID,
      subject: greeting.id,
      data: greeting,
    });
    c.header('location', `/greetings/${greeting.id}`);
    return c.json(greeting, 201);
  },
});
