import { describe, expect, it } from 'vitest';
import { createTestApp, outboxIntents } from '../../tasks/testing.ts';
import { createTask } from '../createTask/index.ts';
import { updateTask } from './index.ts';

async function setup() {
  const t = createTestApp([createTask, updateTask]);
  const created = await t.call('POST', '/tasks', {
    title: 'a',
    description: 'd',
    dueAt: '2026-12-01T00:00:00Z',
  });
  return { ...t, id: (await created.json()).id as string, etag: created.headers.get('etag') ?? '' };
}

describe('updateTask', () => {
  it('changes the given fields, clears nulls, publishes task.updated', async () => {
    const { call, id, dapr } = await setup();
    const response = await call('PATCH', `/tasks/${id}`, { priority: 'high', description: null });
    expect(response.status).toBe(200);
    const task = await response.json();
    expect(task).toMatchObject({ title: 'a', priority: 'high', dueAt: '2026-12-01T00:00:00.000Z' });
    expect(task).not.toHaveProperty('description');
    expect(dapr.published.map((e) => e.cloudEvent?.type)).toEqual(['task.created', 'task.updated']);
    expect(response.headers.get('etag')).toBe('"2"');
  });

  it('honours If-Match: the current ETag applies, a stale one is 412 and changes nothing', async () => {
    const { call, id, etag, dapr } = await setup();
    const first = await call('PATCH', `/tasks/${id}`, { title: 'b' }, { 'if-match': etag });
    expect(first.status).toBe(200);
    const stale = await call('PATCH', `/tasks/${id}`, { title: 'c' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toBe('application/problem+json');
    expect(dapr.state.get(`task|${id}`)?.value).toMatchObject({ task: { title: 'b' } });
  });

  it('retries a lost race without If-Match so neither change is lost', async () => {
    const { call, id, dapr } = await setup();
    // Another writer changes the task between this request's read and its save.
    const realSave = dapr.saveState.bind(dapr);
    let interfered = false;
    dapr.saveState = async (store, items) => {
      if (!interfered && items[0]?.key === `task|${id}`) {
        interfered = true;
        const current = dapr.state.get(`task|${id}`);
        const record = current?.value as { revision: number; task: object };
        await realSave(store, [
          {
            key: `task|${id}`,
            value: { ...record, revision: record.revision + 1, task: { ...record.task, tags: ['other'] } },
            etag: current?.etag ?? '',
          },
        ]);
      }
      return realSave(store, items);
    };
    const response = await call('PATCH', `/tasks/${id}`, { title: 'mine' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ title: 'mine', tags: ['other'] });
    expect(response.headers.get('etag')).toBe('"3"');
  });

  it('concurrent writers of a task: every change kept, one event per write, published in revision order', async () => {
    const { call, id, dapr } = await setup();
    const realSave = dapr.saveState.bind(dapr);
    dapr.saveState = async (store, items) => {
      // Yield first, so the writers' reads and saves interleave.
      await new Promise((resolve) => setTimeout(resolve, 1));
      return realSave(store, items);
    };
    const patches = [
      { title: 't2' },
      { description: 'd2' },
      { priority: 'high' },
      { tags: ['x'] },
      { dueAt: '2026-12-24T00:00:00.000Z' },
    ];
    const responses = await Promise.all(patches.map((patch) => call('PATCH', `/tasks/${id}`, patch)));
    expect(responses.map((r) => r.status)).toEqual(patches.map(() => 200));
    expect(new Set(responses.map((r) => r.headers.get('etag')))).toEqual(
      new Set(['"2"', '"3"', '"4"', '"5"', '"6"']),
    );
    const record = dapr.state.get(`task|${id}`)?.value as { task: object; outbox: unknown[] };
    expect(record.task).toMatchObject(Object.assign({}, ...patches));
    expect(outboxIntents(dapr)).toEqual([]);
    // First copies in revision order; a later copy of an event is a duplicate with the same id.
    const firsts = [...new Set(dapr.published.map((e) => e.cloudEvent?.id))];
    expect(firsts).toEqual([1, 2, 3, 4, 5, 6].map((revision) => `${id}:${revision}`));
  });

  it('answers 503 when the store fails, and changes nothing', async () => {
    const { call, id, dapr } = await setup();
    const { DaprError } = await import('../../shared/dapr.ts');
    // The save fails, and the key's etag is unchanged: an outage, not a conflict.
    dapr.failNext('saveState', new DaprError(500, 'ERR_STATE_SAVE', 'disk full'));
    const response = await call('PATCH', `/tasks/${id}`, { title: 'x' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(dapr.state.get(`task|${id}`)?.value).toMatchObject({ revision: 1, task: { title: 'a' } });
  });

  it('a save whose answer was lost after it was applied counts once: one revision, one event', async () => {
    const { call, id, dapr, etag } = await setup();
    dapr.loseAnswerOfNextSave(`task|${id}`);
    const response = await call('PATCH', `/tasks/${id}`, { tags: ['x'] }, { 'if-match': etag });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"2"');
    expect(dapr.published.map((e) => e.cloudEvent?.id)).toEqual([`${id}:1`, `${id}:2`]);
  });

  it('a PATCH that changes nothing writes and publishes nothing', async () => {
    const { call, id, dapr, etag } = await setup();
    const response = await call('PATCH', `/tasks/${id}`, { title: 'a' });
    expect(response.headers.get('etag')).toBe(etag);
    expect(dapr.published).toHaveLength(1);
  });
});
