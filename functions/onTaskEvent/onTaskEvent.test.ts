import { describe, expect, it } from 'vitest';
import { readActivity } from '../../tasks/activity.ts';
import { bucketKey } from '../../tasks/due-index.ts';
import { reminderJobName } from '../../tasks/reminders.ts';
import type { Task } from '../../tasks/tasks.ts';
import { createTestApp } from '../../tasks/testing.ts';
import { completeTask } from '../completeTask/index.ts';
import { createTask } from '../createTask/index.ts';
import { deleteTask } from '../deleteTask/index.ts';
import { scheduleReminder } from '../scheduleReminder/index.ts';
import { updateTask } from '../updateTask/index.ts';
import { onTaskEvent } from './index.ts';

const id = '6d1f3e43-5e0b-4a4b-9a53-000000000001';
const task = (changes: Partial<Task> = {}): Task => ({
  id,
  title: 'write the report',
  status: 'open',
  priority: 'medium',
  tags: [],
  createdAt: '2026-11-27T09:00:00.000Z',
  updatedAt: '2026-11-27T09:00:00.000Z',
  ...changes,
});
const cloudEvent = (eventId: string, type: string, data: unknown, time = '2026-11-27T09:00:00Z') => ({
  specversion: '1.0',
  id: eventId,
  type,
  source: 'tasks',
  subject: id,
  time,
  datacontenttype: 'application/json',
  data,
});

function setup() {
  const app = createTestApp([onTaskEvent, scheduleReminder]);
  const deliver = async (event: unknown) => (await app.fromDaprd('/events/onTaskEvent', event)).json();
  // The history as stored: the events here are for a task the fake store does not hold.
  const activity = () => readActivity(app.dapr, 'statestore', id);
  return { ...app, deliver, activity };
}

describe('onTaskEvent', () => {
  it('records each event once, in the order it handles them, however often one is delivered', async () => {
    const { deliver, activity } = setup();
    const updated = cloudEvent('e2', 'task.updated', task({ title: 'b' }), '2026-11-27T09:00:02Z');
    expect(await deliver(cloudEvent('e1', 'task.created', task()))).toEqual({ status: 'SUCCESS' });
    expect(await deliver(updated)).toEqual({ status: 'SUCCESS' });
    expect(await deliver(updated)).toEqual({ status: 'SUCCESS' });
    expect(await deliver(cloudEvent('e0', 'task.reminder', task(), '2026-11-27T08:59:00Z'))).toEqual({
      status: 'SUCCESS',
    });
    const entries = await activity();
    expect(entries.map(({ handledAt, ...entry }) => entry)).toEqual([
      { eventId: 'e1', type: 'task.created', time: '2026-11-27T09:00:00Z' },
      { eventId: 'e2', type: 'task.updated', time: '2026-11-27T09:00:02Z' },
      { eventId: 'e0', type: 'task.reminder', time: '2026-11-27T08:59:00Z' },
    ]);
    for (const entry of entries) expect(Date.parse(entry.handledAt ?? '')).not.toBeNaN();
  });

  it('indexes a task due further out than daprd can count a TTL (2100): SUCCESS, its bucket kept without one', async () => {
    const { deliver, dapr } = setup();
    const far = task({ dueAt: '2100-01-01T00:00:00.000Z', remindAt: '2999-12-31T23:59:59.000Z' });
    expect(await deliver(cloudEvent('e1', 'task.created', far))).toEqual({ status: 'SUCCESS' });
    expect(dapr.state.get(bucketKey(Date.parse('2100-01-01T00:00:00Z') / 60_000))?.value).toEqual({
      entries: [{ id, dueAt: '2100-01-01T00:00:00.000Z' }],
    });
    expect(dapr.jobs.get(reminderJobName(id))?.dueTime).toBe('2999-12-31T23:59:59.000Z');
  });

  it('appends the activity entry after the work, and a redelivery of an event in it does no work', async () => {
    const { deliver, dapr, activity } = setup();
    const event = cloudEvent('e1', 'task.created', task({ remindAt: '2026-11-27T12:00:00.000Z' }));
    // The reminder cannot be scheduled: the delivery fails and leaves no entry, so a redelivery does it all.
    dapr.failNext('scheduleJob', new Error('scheduler unavailable'));
    expect(await deliver(event)).not.toEqual({ status: 'SUCCESS' });
    expect(await activity()).toEqual([]);
    expect(await deliver(event)).toEqual({ status: 'SUCCESS' });
    expect((await activity()).map((e) => e.eventId)).toEqual(['e1']);
    const scheduled = dapr.calls.get('scheduleJob');
    dapr.jobs.clear();
    expect(await deliver(event)).toEqual({ status: 'SUCCESS' });
    expect(dapr.calls.get('scheduleJob')).toBe(scheduled);
    expect(dapr.jobs.size).toBe(0);
  });

  it("costs one save for a new task's event with nothing else to do; a redelivery of it a failed save and a read", async () => {
    const { deliver, dapr, activity } = setup();
    expect(await deliver(cloudEvent('e1', 'task.created', task()))).toEqual({ status: 'SUCCESS' });
    expect(Object.fromEntries(dapr.calls)).toEqual({ saveState: 1 });
    dapr.calls.clear();
    expect(await deliver(cloudEvent('e1', 'task.created', task()))).toEqual({ status: 'SUCCESS' });
    expect(Object.fromEntries(dapr.calls)).toEqual({ saveState: 1, getState: 1 });
    expect((await activity()).map((e) => e.eventId)).toEqual(['e1']);
  });

  it('costs one read and one save of the history for a later event with nothing else to do', async () => {
    const { deliver, dapr } = setup();
    expect(await deliver(cloudEvent('e1', 'task.created', task()))).toEqual({ status: 'SUCCESS' });
    dapr.calls.clear();
    expect(await deliver(cloudEvent('e0', 'task.reminder', task()))).toEqual({ status: 'SUCCESS' });
    expect(Object.fromEntries(dapr.calls)).toEqual({ getState: 1, saveState: 1 });
  });

  it.each([
    ['a NUL and RTL mark', 'e\u0000\u202e1'],
    ['a lone surrogate', 'e\ud8001'],
    ['4,000 characters', 'e'.repeat(4000)],
  ])(
    'handles an event whose id has %s once, and keeps that id out of every state key',
    async (_name, eventId) => {
      // daprd closes the connection on a key with NUL, encodeURIComponent throws on a lone
      // surrogate, and PostgreSQL indexes keys of 2,700 bytes at most: such an id in a key would fail forever.
      const { deliver, dapr, activity } = setup();
      expect(await deliver(cloudEvent(eventId, 'task.created', task()))).toEqual({ status: 'SUCCESS' });
      expect(await deliver(cloudEvent(eventId, 'task.created', task()))).toEqual({ status: 'SUCCESS' });
      expect((await activity()).map((e) => e.eventId)).toEqual([eventId]);
      for (const key of dapr.state.keys()) expect(key).toMatch(/^[\x20-\x7e]{1,300}$/);
    },
  );

  it('asks scheduleReminder only about writes that change what the reminder follows, and keeps the job right', async () => {
    const app = createTestApp([
      createTask,
      updateTask,
      completeTask,
      deleteTask,
      onTaskEvent,
      scheduleReminder,
    ]);
    // Each write's events, as published, delivered to onTaskEvent; how many reminder syncs that took.
    const handle = async () => {
      const before = app.dapr.calls.get('invokeMethod') ?? 0;
      for (const { envelope } of app.dapr.published.splice(0))
        expect(await (await app.fromDaprd('/events/onTaskEvent', envelope)).json()).toEqual({
          status: 'SUCCESS',
        });
      return (app.dapr.calls.get('invokeMethod') ?? 0) - before;
    };
    const write = async (method: string, path: string, body?: unknown) => {
      expect((await app.call(method, path, body)).status).toBeLessThan(300);
      return handle();
    };
    const plain = (await (await app.call('POST', '/tasks', { title: 'plain' })).json()).id as string;
    expect(await handle()).toBe(0);
    expect(await write('PATCH', `/tasks/${plain}`, { title: 'renamed', priority: 'high' })).toBe(0);
    expect(await write('POST', `/tasks/${plain}/complete`)).toBe(0);
    expect(await write('DELETE', `/tasks/${plain}`)).toBe(0);

    const remindAt = new Date(Date.now() + 3_600_000).toISOString();
    const reminded = (await (await app.call('POST', '/tasks', { title: 'r', remindAt })).json()).id as string;
    const job = () => app.dapr.jobs.get(reminderJobName(reminded))?.dueTime;
    expect(await handle()).toBe(1);
    expect(job()).toBe(remindAt);
    expect(await write('PATCH', `/tasks/${reminded}`, { title: 'still reminded' })).toBe(0);
    expect(job()).toBe(remindAt);
    expect(await write('PATCH', `/tasks/${reminded}`, { remindAt: null })).toBe(1);
    expect(job()).toBeUndefined();
    expect(await write('PATCH', `/tasks/${reminded}`, { remindAt })).toBe(1);
    expect(job()).toBe(remindAt);
    expect(await write('POST', `/tasks/${reminded}/complete`)).toBe(1);
    expect(job()).toBeUndefined();
    // Done: no reminder whatever remindAt says, so moving it changes nothing.
    expect(
      await write('PATCH', `/tasks/${reminded}`, {
        remindAt: new Date(Date.now() + 7_200_000).toISOString(),
      }),
    ).toBe(0);
    expect(job()).toBeUndefined();
  });

  it('syncs the reminder of a write whose event does not say it left the reminder as it was', async () => {
    const { deliver, dapr } = setup();
    await deliver(cloudEvent('e1', 'task.created', task()));
    await deliver(
      cloudEvent('e2', 'task.updated', task({ title: 'b', updatedAt: '2026-11-27T09:01:00.000Z' })),
    );
    expect(dapr.calls.get('invokeMethod')).toBe(1);
  });

  it('schedules a reminder job at a future remindAt, moves it when remindAt changes, cancels it on completion', async () => {
    const { deliver, dapr } = setup();
    await deliver(cloudEvent('e1', 'task.created', task({ remindAt: '2026-11-27T12:00:00.000Z' })));
    const job = dapr.jobs.get(reminderJobName(id));
    expect(job).toMatchObject({
      dueTime: '2026-11-27T12:00:00.000Z',
      data: { taskId: id, remindAt: '2026-11-27T12:00:00.000Z', version: '2026-11-27T09:00:00.000Z' },
      failurePolicy: { constant: { interval: '10s', maxRetries: 30 } },
    });

    const moved = task({ remindAt: '2026-11-27T13:00:00.000Z', updatedAt: '2026-11-27T09:05:00.000Z' });
    await deliver(cloudEvent('e2', 'task.updated', moved));
    expect(dapr.jobs.get(reminderJobName(id))?.dueTime).toBe('2026-11-27T13:00:00.000Z');

    const done = task({ ...moved, status: 'done', updatedAt: '2026-11-27T09:06:00.000Z' });
    await deliver(cloudEvent('e3', 'task.completed', done));
    expect(dapr.jobs.has(reminderJobName(id))).toBe(false);
  });

  it('cancels the reminder when remindAt is cleared or the task is deleted', async () => {
    const { deliver, dapr } = setup();
    await deliver(cloudEvent('e1', 'task.created', task({ remindAt: '2026-11-27T12:00:00.000Z' })));
    await deliver(cloudEvent('e2', 'task.updated', task({ updatedAt: '2026-11-27T09:01:00.000Z' })));
    expect(dapr.jobs.size).toBe(0);
    await deliver(
      cloudEvent(
        'e3',
        'task.updated',
        task({ remindAt: '2026-11-27T12:00:00.000Z', updatedAt: '2026-11-27T09:02:00.000Z' }),
      ),
    );
    expect(dapr.jobs.size).toBe(1);
    await deliver(cloudEvent('e4', 'task.deleted', { id, deletedAt: '2026-11-27T09:03:00.000Z' }));
    expect(dapr.jobs.size).toBe(0);
  });

  it('does not let a late, older snapshot move the reminder back', async () => {
    const { deliver, dapr } = setup();
    const newer = task({ remindAt: '2026-11-27T13:00:00.000Z', updatedAt: '2026-11-27T09:05:00.000Z' });
    await deliver(cloudEvent('e2', 'task.updated', newer));
    await deliver(cloudEvent('e1', 'task.created', task({ remindAt: '2026-11-27T12:00:00.000Z' })));
    expect(dapr.jobs.get(reminderJobName(id))?.dueTime).toBe('2026-11-27T13:00:00.000Z');
  });

  it('schedules nothing for a remindAt long past, and at once for one that passed while the event was on its way', async () => {
    const { deliver, dapr, setNow } = setup();
    setNow('2026-11-27T10:00:00.000Z');
    await deliver(cloudEvent('e1', 'task.created', task({ remindAt: '2026-11-27T08:00:00.000Z' })));
    expect(dapr.jobs.size).toBe(0);
    const late = task({ remindAt: '2026-11-27T09:59:50.000Z', updatedAt: '2026-11-27T09:59:40.000Z' });
    await deliver(cloudEvent('e2', 'task.updated', late));
    const job = dapr.jobs.get(reminderJobName(id));
    expect(Date.parse(job?.dueTime ?? '')).toBeGreaterThanOrEqual(Date.parse('2026-11-27T10:00:00.000Z'));
    expect(job?.data).toMatchObject({ remindAt: '2026-11-27T09:59:50.000Z' });
  });

  it("indexes an open task's due date for the overdue sweep; a past one in the current minute", async () => {
    const { deliver, dapr, setNow } = setup();
    setNow('2026-11-27T10:00:00.000Z');
    await deliver(cloudEvent('e1', 'task.created', task({ dueAt: '2026-11-28T09:30:00.000Z' })));
    expect(dapr.state.get(bucketKey(Date.parse('2026-11-28T09:30:00Z') / 60_000))?.value).toEqual({
      entries: [{ id, dueAt: '2026-11-28T09:30:00.000Z' }],
    });
    await deliver(cloudEvent('e2', 'task.updated', task({ dueAt: '2026-11-26T00:00:00.000Z' })));
    expect(dapr.state.get(bucketKey(Date.parse('2026-11-27T10:00:00Z') / 60_000))?.value).toEqual({
      entries: [{ id, dueAt: '2026-11-26T00:00:00.000Z' }],
    });
  });

  it.each([
    ['an unknown type', cloudEvent('x1', 'task.exploded', task())],
    ['data that is not a task', cloudEvent('x2', 'task.created', { id, title: 42 })],
    ['a task.deleted whose data is a task', cloudEvent('x3', 'task.deleted', task())],
    [
      'a task.created whose data is a deletion',
      cloudEvent('x4', 'task.created', { id, deletedAt: '2026-11-27T09:00:00Z' }),
    ],
  ])('drops %s (to the dead-letter topic), recording nothing', async (_name, event) => {
    const { deliver, activity } = setup();
    expect(await deliver(event)).toEqual({ status: 'DROP' });
    expect(await activity()).toEqual([]);
  });

  it('asks for a redelivery when the store fails, and succeeds on it', async () => {
    const { deliver, dapr, activity } = setup();
    const event = cloudEvent('e1', 'task.created', task());
    dapr.failNext('saveState', new Error('store down'));
    expect(await deliver(event)).toEqual({ status: 'RETRY' });
    expect(await deliver(event)).toEqual({ status: 'SUCCESS' });
    expect(await activity()).toHaveLength(1);
  });

  it('acks each entry of a bulk delivery: success, duplicate, drop, retry', async () => {
    const { fromDaprd, dapr } = setup();
    dapr.failNext('scheduleJob', new Error('scheduler down'));
    const entries = [
      { entryId: 'a', event: cloudEvent('e1', 'task.created', task()) },
      { entryId: 'b', event: cloudEvent('e1', 'task.created', task()) },
      { entryId: 'c', event: cloudEvent('e2', 'task.created', { nope: true }) },
      {
        entryId: 'd',
        event: cloudEvent('e3', 'task.updated', task({ remindAt: '2026-11-27T12:00:00.000Z' })),
      },
    ];
    const response = await fromDaprd('/events/onTaskEvent', { id: 'b1', topic: 'task-events', entries });
    expect(await response.json()).toEqual({
      statuses: [
        { entryId: 'a', status: 'SUCCESS' },
        { entryId: 'b', status: 'SUCCESS' },
        { entryId: 'c', status: 'DROP' },
        { entryId: 'd', status: 'RETRY' },
      ],
    });
  });
});
