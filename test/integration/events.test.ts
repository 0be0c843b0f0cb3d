import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommunicationProtocolEnum, DaprClient } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { activityTypes, api, appLog, daprd, eventually, sleep, stack } from './client.ts';

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
/**
 * How long an event may take to arrive. On the Kafka profiles the outbox's
 * internal hop adds a second per message and partition (about eleven for the
 * message of a write that lost an etag race), and the other files' writes
 * (500 tasks for the paging test) may still be draining.
 */
const EVENT_WAIT_MS = 150_000;

async function create(body: object) {
  const response = await api('POST', '/tasks', { title: 'event flow', ...body });
  expect(response.status).toBe(201);
  return await response.json();
}

/** The notification files the `notifications` binding (bindings.localstorage) wrote for a task. */
async function notificationFiles(taskId: string): Promise<string[]> {
  const dir = join(stack().dataDir, 'notifications');
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => name.includes(taskId));
}

/**
 * A CloudEvent with an id of our choosing, published through daprd's publish
 * API by the official JS SDK: an independent client, not this project's gateway.
 */
async function publishRaw(event: { id: string; type: string; data: unknown }) {
  const client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(stack().daprHttp),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
  });
  const envelope = {
    specversion: '1.0',
    source: 'integration-test',
    datacontenttype: 'application/json',
    ...event,
  };
  return client.pubsub.publish('pubsub', 'task-events', envelope, {
    contentType: 'application/cloudevents+json',
  });
}

// The tests use tasks of their own and mostly wait for timers: they run side by side.
// pubsub.in-memory never redelivers by itself (daprd's resiliency retries are
// its only retries), so redelivery by the broker is shown on the Kafka profile;
// the ack of each bulk entry (SUCCESS, RETRY, DROP) is covered by unit tests.
describe.concurrent('event-driven functions on the real daprd and scheduler', () => {
  it('a task with remindAt a few seconds ahead gets exactly one notification and one task.reminder', async () => {
    const task = await create({ remindAt: inSeconds(3) });
    const files = await eventually(
      () => notificationFiles(task.id),
      (f) => f.length > 0,
      EVENT_WAIT_MS,
    );
    const types = await eventually(
      () => activityTypes(task.id),
      (t) => t.includes('task.reminder'),
      EVENT_WAIT_MS,
    );
    expect(types).toEqual(['task.created', 'task.reminder']);
    const notification = JSON.parse(
      await readFile(join(stack().dataDir, 'notifications', files[0] ?? ''), 'utf8'),
    );
    expect(notification).toMatchObject({ kind: 'task.reminder', taskId: task.id, remindAt: task.remindAt });
    // The job is gone once it fired, and nothing is sent again.
    await sleep(2000);
    expect((await daprd('GET', `/v1.0/jobs/reminder-${task.id}`)).status).toBe(500);
    expect(await notificationFiles(task.id)).toHaveLength(1);
    expect(await appLog('reminder sent', { taskId: task.id })).toHaveLength(1);
  });

  it('completing a task before remindAt cancels its job: no notification', async () => {
    const task = await create({ remindAt: inSeconds(300) });
    const job = `/v1.0/jobs/reminder-${task.id}`;
    await eventually(
      async () => (await daprd('GET', job)).status,
      (status) => status === 200,
      EVENT_WAIT_MS,
    );
    expect((await api('POST', `/tasks/${task.id}/complete`)).status).toBe(200);
    // The job is gone (daprd answers a missing job with 500 NotFound): it can no longer fire.
    await eventually(
      async () => (await daprd('GET', job)).status,
      (status) => status === 500,
      EVENT_WAIT_MS,
    );
    expect(Date.now()).toBeLessThan(Date.parse(task.remindAt));
    expect(await notificationFiles(task.id)).toEqual([]);
    expect(await activityTypes(task.id)).toEqual(['task.created', 'task.completed']);
  });

  it('a past dueAt yields one task.overdue across several sweeps', async () => {
    const task = await create({ dueAt: '2026-01-01T00:00:00Z' });
    await eventually(
      () => activityTypes(task.id),
      (t) => t.includes('task.overdue'),
      EVENT_WAIT_MS,
    );
    await sleep(7000); // three more sweeps at @every 2s
    expect(await activityTypes(task.id)).toEqual(['task.created', 'task.overdue']);
    expect(await appLog('task.overdue published', { taskId: task.id })).toHaveLength(1);
  });

  it("keeps a task's activity in write order, however the partitions deliver the events", async () => {
    const task = await create({});
    // Writes in quick succession. (Concurrent writes to one task conflict; on Redis a conflicting
    // transaction still publishes through the outbox: see README, "Profiles".)
    const writes: string[] = [];
    for (const [i, priority] of ['low', 'high', 'medium', 'low', 'high', 'medium', 'low', 'high'].entries()) {
      const response = await api('PATCH', `/tasks/${task.id}`, { priority, description: `write ${i}` });
      expect(response.status).toBe(200);
      writes.push((await response.json()).updatedAt);
    }
    const entries = await eventually(
      async (): Promise<Array<{ type: string; time: string }>> =>
        (await (await api('GET', `/tasks/${task.id}/activity`)).json()).entries,
      (list) => list.length >= 1 + writes.length,
      EVENT_WAIT_MS,
    );
    // Each event carries its write's instant (ms); the history is in that order whatever the partitions did.
    expect(entries.map((e) => e.time)).toEqual([task.createdAt, ...writes]);
    expect(entries.map((e) => e.type)).toEqual(['task.created', ...writes.map(() => 'task.updated')]);
  });

  it('the same CloudEvent id published twice through daprd leaves one activity entry', async () => {
    const task = await create({});
    await eventually(
      () => activityTypes(task.id),
      (t) => t.length === 1,
      EVENT_WAIT_MS,
    );
    const id = `dup-${randomUUID()}`;
    const event = { id, type: 'task.updated', data: { ...task, priority: 'high' } };
    expect(await publishRaw(event)).toEqual({});
    await eventually(
      () => activityTypes(task.id),
      (t) => t.length === 2,
      EVENT_WAIT_MS,
    );
    // The second copy comes after the first was handled, as a redelivery does. (Two copies in
    // flight at once may both pass the processed-record check; every step being repeatable,
    // they still leave one entry.)
    expect(await publishRaw(event)).toEqual({});
    await eventually(
      () => appLog('duplicate event ignored', { eventId: id }),
      (lines) => lines.length === 1,
      EVENT_WAIT_MS,
    );
    const entries = (await (await api('GET', `/tasks/${task.id}/activity`)).json()).entries;
    expect(entries.filter((e: { eventId: string }) => e.eventId === id)).toHaveLength(1);
  });

  it('an invalid event is dropped to the dead-letter topic, with a log line saying why', async () => {
    const id = `invalid-${randomUUID()}`;
    expect(await publishRaw({ id, type: 'task.created', data: { title: 42 } })).toEqual({});
    const letters = await eventually(
      async () => (await (await api('GET', '/dead-letters')).json()).items as Array<{ eventId: string }>,
      (items) => items.some((item) => item.eventId === id),
      EVENT_WAIT_MS,
    );
    expect(letters.find((item) => item.eventId === id)).toMatchObject({ type: 'task.created' });
    const [why] = await appLog('event dropped: its data does not match the schema', { eventId: id });
    expect(why).toMatchObject({ function: 'onTaskEvent', type: 'task.created' });
  });
});
