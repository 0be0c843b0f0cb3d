import { describe, expect, it } from 'vitest';
import type { Env } from '../../shared/config.ts';
import { createTestApp } from '../../shared/testing.ts';
import { greetingApp } from '../app.ts';
import { greet } from '../greet/index.ts';
import { followUpJobName } from '../greetings.ts';
import { followUp } from './index.ts';

/** A greeting with a follow-up, made through greet; `fire` is what daprd does when the job is due. */
async function setup(env: Env = {}) {
  const app = createTestApp(greetingApp, [greet, followUp], env);
  const body = { name: 'Ada', followUpAt: '2026-11-28T10:00:00Z' };
  const greeting = await (await app.call('POST', '/greetings', body)).json();
  const job = app.dapr.jobs.get(followUpJobName(greeting.id));
  const fire = (data: unknown = job?.data) => app.fromDaprd(`/job/${followUpJobName(greeting.id)}`, data);
  return { ...app, greeting, fire };
}

describe('followUp', () => {
  it('sends one follow-up through the notifications output binding', async () => {
    const { fire, dapr, greeting } = await setup();
    const response = await fire();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'SUCCESS' });
    expect(dapr.bindingCalls).toEqual([
      {
        name: 'notifications',
        operation: 'create',
        data: { kind: 'greeting.follow-up', greetingId: greeting.id, name: 'Ada' },
        metadata: { fileName: `follow-up-${greeting.id}.json` },
      },
    ]);
  });

  it('sends once when the job fires twice', async () => {
    const { fire, dapr } = await setup();
    await fire();
    expect((await fire()).status).toBe(200);
    expect(dapr.bindingCalls).toHaveLength(1);
  });

  it('fails (500: the scheduler fires it again) when the binding fails, then sends once', async () => {
    const { fire, dapr } = await setup();
    dapr.failNext('invokeBinding', new Error('mail server down'));
    expect((await fire()).status).toBe(500);
    expect((await fire()).status).toBe(200);
    expect((await fire()).status).toBe(200);
    expect(dapr.bindingCalls).toHaveLength(1);
  });

  it('drops a payload that is not a follow-up, sends nothing for a greeting that does not exist', async () => {
    const { fire, dapr } = await setup();
    expect(await (await fire({ greeting: 'nope' })).json()).toEqual({ status: 'DROP' });
    expect(await (await fire({ greetingId: 'missing' })).json()).toEqual({ status: 'SUCCESS' });
    expect(dapr.bindingCalls).toEqual([]);
  });

  it('sends through the binding its setting names', async () => {
    const { fire, dapr } = await setup({ NOTIFICATIONS_BINDING: 'mail' });
    await fire();
    expect(dapr.bindingCalls.map((c) => c.name)).toEqual(['mail']);
  });
});
