import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../tasks/testing.ts';
import { createTask } from '../createTask/index.ts';
import { getTask } from './index.ts';

describe('getTask', () => {
  it('returns the task with the same ETag that createTask gave', async () => {
    const { call } = createTestApp([createTask, getTask]);
    const created = await call('POST', '/tasks', { title: 'a' });
    const { id } = await created.json();
    const response = await call('GET', `/tasks/${id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(created.headers.get('etag'));
    expect((await response.json()).title).toBe('a');
  });

  it('404s a task that does not exist, 400s an id that is not a UUID', async () => {
    const { call } = createTestApp([getTask]);
    const missing = await call('GET', '/tasks/6d1f3e43-5e0b-4a4b-9a53-111111111111');
    expect(missing.status).toBe(404);
    expect((await missing.json()).detail).toContain('6d1f3e43-5e0b-4a4b-9a53-111111111111');
    expect((await call('GET', '/tasks/not-a-uuid')).status).toBe(400);
  });
});
