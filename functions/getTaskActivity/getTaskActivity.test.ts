import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../tasks/testing.ts';
import { createTask } from '../createTask/index.ts';
import { deleteTask } from '../deleteTask/index.ts';
import { getTaskActivity } from './index.ts';

describe('getTaskActivity', () => {
  it("answers a live task's history, and 404 for a task never created or deleted", async () => {
    const { call } = createTestApp([createTask, deleteTask, getTaskActivity]);
    const created = await (await call('POST', '/tasks', { title: 'x' })).json();
    const live = await call('GET', `/tasks/${created.id}/activity`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ taskId: created.id, entries: [] });

    const never = await call('GET', '/tasks/0f8fad5b-d9cb-469f-a165-70867728950e/activity');
    expect(never.status).toBe(404);
    expect((await never.json()).taskId).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');

    expect((await call('DELETE', `/tasks/${created.id}`)).status).toBe(204);
    const gone = await call('GET', `/tasks/${created.id}/activity`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toBe('application/problem+json');
  });
});
