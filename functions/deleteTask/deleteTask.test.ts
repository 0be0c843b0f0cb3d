import { describe, expect, it } from 'vitest';
import { createTestApp, outboxIntents } from '../../tasks/testing.ts';
import { createTask } from '../createTask/index.ts';
import { getTask } from '../getTask/index.ts';
import { deleteTask } from './index.ts';

describe('deleteTask', () => {
  it('deletes the task and publishes task.deleted, the tombstone’s own event', async () => {
    const { call, dapr } = createTestApp([createTask, getTask, deleteTask]);
    const { id } = await (await call('POST', '/tasks', { title: 'a' })).json();
    const response = await call('DELETE', `/tasks/${id}`);
    expect(response.status).toBe(204);
    expect((await call('GET', `/tasks/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/tasks/${id}`)).status).toBe(404);
    const deleted = dapr.published.at(-1);
    expect(deleted?.cloudEvent).toMatchObject({
      id: `${id}:2`,
      type: 'task.deleted',
      extensions: { seq: '2' },
    });
    expect(deleted?.data).toMatchObject({ id, deletedAt: expect.any(String) });
    // The tombstone keeps the revision (a late event of the task is recognised) for 7 days.
    expect(dapr.state.get(`task|${id}`)?.value).toMatchObject({ revision: 2, outbox: [{ seq: 2 }] });
    expect(outboxIntents(dapr)).toEqual([]);
    expect(dapr.state.get(`task|${id}`)?.value).not.toHaveProperty('task');
  });

  it('a stale If-Match is 412 and the task stays', async () => {
    const { call } = createTestApp([createTask, getTask, deleteTask]);
    const created = await call('POST', '/tasks', { title: 'a' });
    const { id } = await created.json();
    const response = await call('DELETE', `/tasks/${id}`, undefined, { 'if-match': '"999"' });
    expect(response.status).toBe(412);
    expect((await call('GET', `/tasks/${id}`)).status).toBe(200);
    const ok = await call('DELETE', `/tasks/${id}`, undefined, {
      'if-match': created.headers.get('etag') ?? '',
    });
    expect(ok.status).toBe(204);
  });

  it('a save whose answer was lost after it was applied is the delete done, not a 404 (found by the fault tests)', async () => {
    const { call, dapr } = createTestApp([createTask, getTask, deleteTask]);
    const { id } = await (await call('POST', '/tasks', { title: 'a' })).json();
    // Redis (or daprd) dies after applying the save and before answering.
    dapr.loseAnswerOfNextSave(`task|${id}`);
    expect((await call('DELETE', `/tasks/${id}`)).status).toBe(204);
    expect(dapr.published.map((e) => e.cloudEvent?.type)).toEqual(['task.created', 'task.deleted']);
  });
});
