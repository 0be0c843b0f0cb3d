import { describe, expect, it } from 'vitest';
import type { FakePublishedEvent } from '../../shared/fake-dapr.ts';
import { createTestApp } from '../../shared/testing.ts';
import { createTask } from '../createTask/index.ts';
import { deleteTask } from '../deleteTask/index.ts';
import { updateTask } from '../updateTask/index.ts';
import { relayTaskWrite } from './index.ts';

async function setup() {
  const t = createTestApp([createTask, updateTask, deleteTask, relayTaskWrite]);
  const id: string = (await (await t.call('POST', '/tasks', { title: 'a' })).json()).id;
  let outboxIds = 0;
  /** The outbox's events so far, as daprd would deliver them from task-writes (ids as the outbox makes them). */
  const writes = () =>
    t.dapr.published
      .filter((e) => e.topic === 'task-writes')
      .map((e: FakePublishedEvent & { envelope?: object }) => {
        e.envelope ??= {
          id: `outbox-${++outboxIds}`,
          source: 'tasks',
          specversion: '1.0',
          datacontenttype: 'application/json',
          topic: 'task-writes',
          ...e.metadata,
          data: e.data,
        };
        return e.envelope as { id: string; type: string; time: string; prevtime?: string };
      });
  const deliver = async (event: object | undefined) =>
    (await (await t.fromDaprd('/events/relayTaskWrite', event)).json()).status;
  const forwarded = () => t.dapr.published.filter((e) => e.topic === 'task-events');
  return { ...t, id, writes, deliver, forwarded };
}

describe('relayTaskWrite', () => {
  it('forwards a task’s write events keyed by its id, in write order, whatever order they arrive in', async () => {
    const { call, id, writes, deliver, forwarded } = await setup();
    for (const priority of ['high', 'low', 'medium']) await call('PATCH', `/tasks/${id}`, { priority });
    await call('DELETE', `/tasks/${id}`);
    const events = writes();
    expect(events.map((e) => e.type)).toEqual([
      'task.created',
      'task.updated',
      'task.updated',
      'task.updated',
      'task.deleted',
    ]);
    // Each event names the version it replaced.
    for (const [i, e] of events.entries()) expect(e.prevtime).toBe(events[i - 1]?.time);

    for (const e of [...events].reverse()) expect(await deliver(e)).toBe('SUCCESS');
    expect(forwarded().map((e) => e.cloudEvent?.id)).toEqual(events.map((e) => e.id));
    expect(forwarded().every((e) => e.metadata.partitionKey === id)).toBe(true);
    expect(forwarded()[1]?.cloudEvent).toMatchObject({
      type: 'task.updated',
      subject: id,
      time: events[1]?.time,
      extensions: { prevtime: events[0]?.time },
      data: { id, priority: 'high' },
    });

    // Redeliveries change nothing, before or after the deletion.
    for (const e of events) expect(await deliver(e)).toBe('SUCCESS');
    expect(forwarded()).toHaveLength(events.length);
  });

  it('holds an event whose write was overtaken until the next one shows it committed', async () => {
    const { call, id, writes, deliver, forwarded } = await setup();
    await call('PATCH', `/tasks/${id}`, { priority: 'high' });
    await call('PATCH', `/tasks/${id}`, { priority: 'low' });
    const [created, first, second] = writes();
    await deliver(created);
    // The task is already at the second version: nothing yet says the first committed.
    await deliver(first);
    expect(forwarded().map((e) => e.cloudEvent?.id)).toEqual([created?.id]);
    await deliver(second);
    expect(forwarded().map((e) => e.cloudEvent?.id)).toEqual([created?.id, first?.id, second?.id]);
  });

  it('drops the event of a write whose transaction failed but published anyway (state.redis)', async () => {
    const { call, id, dapr, writes, deliver, forwarded } = await setup();
    dapr.ghostOutbox = true;
    // Writers take turns by a lease, but one that outlives its lease races the next: here a second
    // writer commits between this request's claim and its transaction.
    const realTransact = dapr.transactState.bind(dapr);
    let interfere = 1;
    dapr.transactState = async (store, ops) => {
      if (interfere-- > 0) {
        dapr.state.delete(`task-lease|${id}`);
        expect((await call('PATCH', `/tasks/${id}`, { tags: ['other'] })).status).toBe(200);
      }
      return realTransact(store, ops);
    };
    expect((await call('PATCH', `/tasks/${id}`, { title: 'mine' })).status).toBe(200);
    const events = writes();
    // created, the other writer's update, the ghost of the lost attempt, the retried update.
    expect(events).toHaveLength(4);
    const ghost = events[2];
    for (const e of [...events].reverse()) await deliver(e);
    expect(forwarded().map((e) => e.cloudEvent?.id)).toEqual(
      events.filter((e) => e !== ghost).map((e) => e.id),
    );
    expect(forwarded().at(-1)?.data).toMatchObject({ title: 'mine', tags: ['other'] });
  });

  it('drops an event that is not a write of the task it is about', async () => {
    const { id, writes, deliver, forwarded } = await setup();
    const [created] = writes();
    expect(await deliver({ ...created, id: 'x1', subject: 'someone-else' })).toBe('DROP');
    expect(await deliver({ ...created, id: 'x2', type: 'task.reminder' })).toBe('DROP');
    expect(await deliver({ ...created, id: 'x3', time: undefined })).toBe('DROP');
    expect(forwarded()).toHaveLength(0);
    expect(id).toBeTruthy();
  });

  it('retries when the broker refuses the forward, and forwards once it takes it', async () => {
    const { dapr, writes, deliver, forwarded } = await setup();
    const [created] = writes();
    dapr.failNext('publishCloudEvent', new Error('broker down'));
    expect(await deliver(created)).toBe('RETRY');
    expect(await deliver(created)).toBe('SUCCESS');
    expect(forwarded().map((e) => e.cloudEvent?.id)).toEqual([created?.id]);
  });
});
