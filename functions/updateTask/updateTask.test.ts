import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../shared/testing.ts';
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
    expect(dapr.published.map((e) => e.metadata.type)).toEqual(['task.created', 'task.updated']);
  });

  it('honours If-Match: the current ETag applies, a stale one is 412 and changes nothing', async () => {
    const { call, id, etag, dapr } = await setup();
    const first = await call('PATCH', `/tasks/${id}`, { title: 'b' }, { 'if-match': etag });
    expect(first.status).toBe(200);
    const stale = await call('PATCH', `/tasks/${id}`, { title: 'c' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toBe('application/problem+json');
    expect(dapr.state.get(`task|${id}`)?.value).toMatchObject({ title: 'b' });
  });

  it('retries a lost race without If-Match so neither change is lost', async () => {
    const { call, id, dapr } = await setup();
    // Another writer changes the task between this request's read and its transaction.
    const realTransact = dapr.transactState.bind(dapr);
    let interfered = false;
    dapr.transactState = async (store, ops) => {
      if (!interfered) {
        interfered = true;
        const current = dapr.state.get(`task|${id}`);
        await dapr.saveState(store, [
          {
            key: `task|${id}`,
            value: { ...(current?.value as object), tags: ['other'] },
            etag: current?.etag ?? '',
          },
        ]);
      }
      return realTransact(store, ops);
    };
    const response = await call('PATCH', `/tasks/${id}`, { title: 'mine' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ title: 'mine', tags: ['other'] });
  });

  it('concurrent writers of a task take turns by a lease: no transaction fails, no change is lost', async () => {
    const { call, id, dapr } = await setup();
    const realTransact = dapr.transactState.bind(dapr);
    let failed = 0;
    dapr.transactState = async (store, ops) => {
      // Yield first, so the writers' reads, claims and transactions interleave.
      await new Promise((resolve) => setTimeout(resolve, 1));
      return realTransact(store, ops).catch((error) => {
        failed += 1;
        throw error;
      });
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
    expect(failed).toBe(0);
    expect(dapr.state.get(`task|${id}`)?.value).toMatchObject(Object.assign({}, ...patches));
    const versions = dapr.published
      .filter((e) => e.metadata.type === 'task.updated')
      .map((e) => e.metadata.time);
    expect(versions).toHaveLength(patches.length);
    expect(new Set(versions).size).toBe(patches.length);
  });

  it('tells an outage (503) from a conflict when the transaction fails', async () => {
    const { call, id, dapr } = await setup();
    dapr.failNext(
      'transactState',
      new (await import('../../shared/dapr.ts')).TransactionFailedError('disk full'),
    );
    const response = await call('PATCH', `/tasks/${id}`, { title: 'x' });
    expect(response.status).toBe(503);
    expect(dapr.state.get(`task|${id}`)?.value).toMatchObject({ title: 'a' });
  });

  it('a PATCH that changes nothing writes and publishes nothing', async () => {
    const { call, id, dapr, etag } = await setup();
    const response = await call('PATCH', `/tasks/${id}`, { title: 'a' });
    expect(response.headers.get('etag')).toBe(etag);
    expect(dapr.published).toHaveLength(1);
  });
});
