import { describe, expect, it } from 'vitest';
import { MAX_BUCKETS_PER_SWEEP } from '../../tasks/due-index.ts';
import { createTestApp } from '../../tasks/testing.ts';
import { completeTask } from '../completeTask/index.ts';
import { createTask } from '../createTask/index.ts';
import { deleteTask } from '../deleteTask/index.ts';
import { getTask } from '../getTask/index.ts';
import { onTaskEvent } from '../onTaskEvent/index.ts';
import { scheduleReminder } from '../scheduleReminder/index.ts';
import { updateTask } from '../updateTask/index.ts';
import { cronBinding } from './index.ts';

/**
 * The Task API, onTaskEvent (which keeps the due index) and the sweep in one
 * test app. The fake gateway records what the outbox publishes; `settle`
 * delivers the writes' events to onTaskEvent as daprd would.
 */
function setup() {
  const app = createTestApp([
    createTask,
    getTask,
    updateTask,
    completeTask,
    deleteTask,
    onTaskEvent,
    scheduleReminder,
    cronBinding,
  ]);
  app.setNow('2026-11-27T10:00:00.000Z');
  let delivered = 0;
  async function settle() {
    for (; delivered < app.dapr.published.length; delivered++) {
      const envelope = app.dapr.published[delivered]?.envelope;
      if (!envelope || envelope.type === 'task.overdue') continue;
      await app.fromDaprd('/events/onTaskEvent', envelope);
    }
  }
  async function create(body: Record<string, unknown>) {
    const task = await (await app.call('POST', '/tasks', { title: 'pay the invoice', ...body })).json();
    await settle();
    return task;
  }
  const sweep = async () => {
    expect((await app.fromDaprd('/overdue-sweep')).status).toBe(200);
    await settle();
  };
  const overdue = () => app.dapr.published.filter((p) => p.cloudEvent?.type === 'task.overdue');
  return { ...app, create, sweep, overdue, settle };
}

describe('cronBinding (overdue sweep)', () => {
  it('publishes task.overdue once per task and due date, however many sweeps run', async () => {
    const { create, sweep, overdue, advance } = setup();
    const task = await create({ dueAt: '2026-11-27T09:00:00Z' });
    await sweep();
    await sweep();
    advance(60_000);
    await sweep();
    advance(60_000);
    await sweep();
    expect(overdue().map((p) => p.cloudEvent?.id)).toEqual([
      `task.overdue:${task.id}:2026-11-27T09:00:00.000Z`,
    ]);
  });

  it('finds a past-due task when the first task ever indexed is due next year', async () => {
    const { create, sweep, overdue } = setup();
    await create({ dueAt: '2027-06-01T09:00:00Z' });
    await sweep();
    const late = await create({ dueAt: '2026-11-27T09:00:00Z' });
    await sweep();
    expect(overdue().map((p) => p.cloudEvent?.subject)).toEqual([late.id]);
  });

  it('publishes when the due time comes, not before', async () => {
    const { create, sweep, overdue, advance } = setup();
    await create({ dueAt: '2026-11-27T10:05:00Z' });
    await sweep();
    advance(2 * 60_000);
    await sweep();
    expect(overdue()).toEqual([]);
    advance(4 * 60_000);
    await sweep();
    expect(overdue()).toHaveLength(1);
  });

  it('skips tasks completed before their due time, and follows a moved due date', async () => {
    const { create, sweep, overdue, advance, call, settle } = setup();
    const done = await create({ dueAt: '2026-11-27T10:01:00Z' });
    await call('POST', `/tasks/${done.id}/complete`);
    const moved = await create({ dueAt: '2026-11-27T10:01:00Z' });
    await call('PATCH', `/tasks/${moved.id}`, { dueAt: '2026-11-27T10:10:00Z' });
    await settle();
    advance(3 * 60_000);
    await sweep();
    expect(overdue()).toEqual([]);
    advance(10 * 60_000);
    await sweep();
    expect(overdue().map((p) => p.cloudEvent?.id)).toEqual([
      `task.overdue:${moved.id}:2026-11-27T10:10:00.000Z`,
    ]);
  });

  it('reads a deleted task once, however many sweeps find its entry', async () => {
    // Each read answers 404, which daprd counts against the Task API route's circuit breaker:
    // read again and again, it opens, the reads fail, and the sweep holds its cursor on them.
    const { create, sweep, call, settle, dapr, overdue } = setup();
    const task = await create({ dueAt: '2026-11-27T09:00:00Z' });
    expect((await call('DELETE', `/tasks/${task.id}`)).status).toBe(204);
    await settle();
    dapr.calls.set('invokeMethod', 0);
    for (let i = 0; i < 5; i++) await sweep();
    expect(dapr.calls.get('invokeMethod')).toBe(1);
    expect(overdue()).toEqual([]);
  });

  it('reads only the buckets of the minutes since the last sweep, whatever the number of tasks due later', async () => {
    const { create, sweep, dapr, advance } = setup();
    await sweep(); // starts the cursor
    for (let i = 0; i < 50; i++)
      await create({ dueAt: `2026-12-${String(1 + (i % 28)).padStart(2, '0')}T08:00:00Z` });
    dapr.bulkKeysRead = 0;
    dapr.calls.set('invokeMethod', 0);
    advance(5 * 60_000);
    await sweep();
    expect(dapr.bulkKeysRead).toBeLessThanOrEqual(10);
    expect(dapr.calls.get('invokeMethod')).toBe(0);
  });

  it('catches up on a long outage a day of buckets per sweep', async () => {
    const { sweep, dapr, advance } = setup();
    await sweep();
    advance(3 * 24 * 3600_000);
    dapr.bulkKeysRead = 0;
    await sweep();
    expect(dapr.bulkKeysRead).toBe(MAX_BUCKETS_PER_SWEEP);
  });

  it('retries a task whose check failed on the next sweep, without publishing twice', async () => {
    const { create, sweep, overdue, dapr, advance } = setup();
    await create({ dueAt: '2026-11-27T09:00:00Z' });
    dapr.failNext('publishCloudEvent', new Error('broker down'));
    await sweep();
    expect(overdue()).toEqual([]);
    advance(10 * 60_000);
    await sweep();
    await sweep();
    expect(overdue()).toHaveLength(1);
  });
});
