import { describe, expect, it } from 'vitest';
import { SidecarUnreachableError } from '../../shared/dapr.ts';
import { createTestApp } from '../../shared/testing.ts';
import { createTask } from './index.ts';

describe('createTask', () => {
  it('stores the task and publishes task.created through the outbox', async () => {
    const { call, dapr } = createTestApp([createTask]);
    const response = await call('POST', '/tasks', {
      title: '  Write the report ',
      dueAt: '2026-12-01T10:00:00+02:00',
      tags: ['work', 'work', 'q4'],
    });
    expect(response.status).toBe(201);
    const task = await response.json();
    expect(task).toMatchObject({
      title: 'Write the report',
      status: 'open',
      priority: 'medium',
      dueAt: '2026-12-01T08:00:00.000Z',
      tags: ['work', 'q4'],
    });
    expect(response.headers.get('location')).toBe(`/tasks/${task.id}`);
    expect(response.headers.get('etag')).toBe(`"${dapr.state.get(`task|${task.id}`)?.etag}"`);
    expect(dapr.published).toHaveLength(1);
    expect(dapr.published[0]?.metadata).toMatchObject({ type: 'task.created', subject: task.id });
    expect(dapr.published[0]?.data).toEqual(task);
  });

  it('answers 503 with Retry-After and writes nothing when the sidecar fails', async () => {
    const { call, dapr } = createTestApp([createTask]);
    dapr.failNext(
      'transactState',
      new SidecarUnreachableError('daprd did not answer', new TypeError('fetch failed')),
    );
    const response = await call('POST', '/tasks', { title: 'x' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect([...dapr.state.keys()].filter((k) => k.startsWith('task|'))).toEqual([]);
    expect(dapr.published).toEqual([]);
  });
});
