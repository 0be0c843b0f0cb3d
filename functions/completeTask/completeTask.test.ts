import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../tasks/testing.ts';
import { createTask } from '../createTask/index.ts';
import { completeTask } from './index.ts';

describe('completeTask', () => {
  it('marks the task done once; completing again changes and publishes nothing', async () => {
    const { call, dapr } = createTestApp([createTask, completeTask]);
    const { id } = await (await call('POST', '/tasks', { title: 'a' })).json();
    const first = await call('POST', `/tasks/${id}/complete`);
    expect(first.status).toBe(200);
    const done = await first.json();
    expect(done).toMatchObject({ status: 'done', completedAt: expect.any(String) });
    const again = await call('POST', `/tasks/${id}/complete`);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(done);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(dapr.published.map((e) => e.cloudEvent?.type)).toEqual(['task.created', 'task.completed']);
  });

  it('404s an unknown task', async () => {
    const { call } = createTestApp([completeTask]);
    expect((await call('POST', '/tasks/6d1f3e43-5e0b-4a4b-9a53-111111111111/complete')).status).toBe(404);
  });
});
