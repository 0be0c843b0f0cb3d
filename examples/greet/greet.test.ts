import { describe, expect, it } from 'vitest';
import { eventMessageSchema } from '../../shared/asyncapi.ts';
import { DaprError } from '../../shared/dapr.ts';
import { createTestApp } from '../../shared/testing.ts';
import { greetingApp } from '../app.ts';
import { followUpJobName, greetingEvents, greetingKey } from '../greetings.ts';
import { greet } from './index.ts';

describe('greet', () => {
  it('saves the greeting, publishes greeting.created, and answers 201 with its Location', async () => {
    const { call, dapr } = createTestApp(greetingApp, [greet]);
    const response = await call('POST', '/greetings', { name: ' Ada ' });
    expect(response.status).toBe(201);
    const greeting = await response.json();
    expect(greeting).toEqual({ id: expect.any(String), name: 'Ada', at: '2026-11-27T10:00:01.000Z' });
    expect(response.headers.get('location')).toBe(`/greetings/${greeting.id}`);
    expect(dapr.state.get(greetingKey(greeting.id))?.value).toEqual(greeting);
    expect(dapr.published).toEqual([
      expect.objectContaining({
        pubsub: 'pubsub',
        topic: 'greetings',
        cloudEvent: {
          id: `greeting.created:${greeting.id}`,
          type: 'greeting.created',
          source: 'greetings',
          subject: greeting.id,
          data: greeting,
        },
      }),
    ]);
    expect(dapr.jobs.size).toBe(0);
  });

  it('publishes the event /asyncapi.json describes', async () => {
    const { call, raw, dapr } = createTestApp(greetingApp, [greet]);
    await call('POST', '/greetings', { name: 'Ada' });
    const [created] = greetingEvents.messages;
    if (!created) throw new Error('no greeting.created in greetingEvents');
    expect(eventMessageSchema(created).safeParse(dapr.published[0]?.envelope).error).toBeUndefined();
    const document = await (await raw('/asyncapi.json')).json();
    expect(document.operations['publish-greetings']).toMatchObject({ action: 'send' });
  });

  it('schedules the follow-up job when one is asked for', async () => {
    const { call, dapr } = createTestApp(greetingApp, [greet]);
    const response = await call('POST', '/greetings', { name: 'Ada', followUpAt: '2026-11-28T10:00:00Z' });
    const { id } = await response.json();
    expect(dapr.jobs.get(followUpJobName(id))).toMatchObject({
      dueTime: '2026-11-28T10:00:00Z',
      data: { greetingId: id },
    });
  });

  it('answers 400 with problem details for a body that is not a greeting, 401 without the token', async () => {
    const { call, raw, dapr } = createTestApp(greetingApp, [greet]);
    const invalid = await call('POST', '/greetings', { name: '', followUpAt: 'tomorrow' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toBe('application/problem+json');
    expect((await invalid.json()).errors.map((e: { path: string }) => e.path)).toEqual([
      'name',
      'followUpAt',
    ]);
    const anonymous = await raw('/greetings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada' }),
    });
    expect(anonymous.status).toBe(401);
    expect(dapr.state.size).toBe(0);
    expect(dapr.published).toEqual([]);
  });

  it('answers 503 with Retry-After when the sidecar fails', async () => {
    const { call, dapr } = createTestApp(greetingApp, [greet]);
    dapr.failNext('publishCloudEvent', new DaprError(500, 'ERR_PUBSUB_PUBLISH_MESSAGE', 'broker down'));
    const response = await call('POST', '/greetings', { name: 'Ada' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
  });
});
