import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommunicationProtocolEnum, DaprClient } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { topicRecords } from '../../scripts/lib/kafka-lag.ts';
import { activityTypes, api, appLog, daprd, deadLetter, eventually, sleep, stack } from './client.ts';

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
/**
 * How long an event may take to arrive: the other files' writes (500 tasks
 * for the paging test) may still be draining.
 */
const EVENT_WAIT_MS = 60_000;

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
async function publishRaw(event: { id: string; type: string; data: unknown }, partitionKey?: string) {
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
    ...(partitionKey ? { metadata: { partitionKey } } : {}),
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
    // onTaskEvent cancels the job before it records the event: the entry may follow a moment later.
    const types = await eventually(
      () => activityTypes(task.id),
      (t) => t.includes('task.completed'),
      EVENT_WAIT_MS,
    );
    expect(types).toEqual(['task.created', 'task.completed']);
    expect(await notificationFiles(task.id)).toEqual([]);
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

  it("delivers a task's events in write order under concurrent writes, one per committed write, keyed by task id", async () => {
    const task = await create({});
    // Concurrent writes to one task race for its etag: losers read again and retry. Only saved
    // records hold events, and a record's events go out oldest first.
    const priorities = ['low', 'high', 'medium', 'low', 'high', 'medium', 'low', 'high'];
    const responses = await Promise.all(
      priorities.map((priority, i) =>
        api('PATCH', `/tasks/${task.id}`, { priority, description: `write ${i}` }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(priorities.map(() => 200));
    const versions: string[] = (await Promise.all(responses.map((r) => r.json()))).map((t) => t.updatedAt);
    const entries = await eventually(
      async (): Promise<Array<{ eventId: string; type: string; time: string; revision?: number }>> =>
        (await (await api('GET', `/tasks/${task.id}/activity`)).json()).entries,
      (list) => list.length >= 1 + versions.length,
      EVENT_WAIT_MS,
    );
    // The history is in the order onTaskEvent handled the events: exactly the write order.
    expect(entries.map((e) => e.time)).toEqual([task.createdAt, ...[...versions].sort()]);
    expect(entries.map((e) => e.type)).toEqual(['task.created', ...versions.map(() => 'task.updated')]);
    // Revisions 1 (the create) to 9, each once, and each answer's ETag names one of them.
    expect(entries.map((e) => e.revision)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(responses.map((r) => r.headers.get('etag')).sort()).toEqual([
      '"2"',
      '"3"',
      '"4"',
      '"5"',
      '"6"',
      '"7"',
      '"8"',
      '"9"',
    ]);
    await sleep(3000);
    expect(await activityTypes(task.id)).toHaveLength(1 + versions.length);
    const { kafka } = stack();
    if (kafka) {
      // On Kafka: every one of the task's events is a record keyed by its id, on one partition.
      const records = (await topicRecords(kafka, 'task-events')).filter((r) => r.value.includes(task.id));
      expect(records.map((r) => JSON.parse(r.value).id)).toEqual(entries.map((e) => e.eventId));
      expect(new Set(records.map((r) => `${r.partition}/${r.key}`))).toEqual(
        new Set([`${records[0]?.partition}/${task.id}`]),
      );
    }
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
    // flight at once may both find no activity entry; every step is repeatable and the entry's
    // save is etag-guarded, so they still leave one entry.)
    expect(await publishRaw(event)).toEqual({});
    await eventually(
      () => appLog('duplicate event ignored', { eventId: id }),
      (lines) => lines.length === 1,
      EVENT_WAIT_MS,
    );
    const entries = (await (await api('GET', `/tasks/${task.id}/activity`)).json()).entries;
    expect(entries.filter((e: { eventId: string }) => e.eventId === id)).toHaveLength(1);
  });

  it('an invalid event is dropped to the dead-letter topic, with a log line saying why, and the next one is handled', async () => {
    const task = await create({});
    await eventually(
      () => activityTypes(task.id),
      (t) => t.length === 1,
      EVENT_WAIT_MS,
    );
    // Both on the task's key, so on Kafka the valid event waits behind the poison one in its partition.
    const id = `invalid-${randomUUID()}`;
    expect(await publishRaw({ id, type: 'task.created', data: { title: 42 } }, task.id)).toEqual({});
    const next = { id: `after-${id}`, type: 'task.updated', data: { ...task, priority: 'high' } };
    expect(await publishRaw(next, task.id)).toEqual({});
    expect(await deadLetter(id, EVENT_WAIT_MS)).toMatchObject({ type: 'task.created' });
    const [why] = await appLog('event dropped: its data does not match the schema', { eventId: id });
    expect(why).toMatchObject({ function: 'onTaskEvent', type: 'task.created' });
    await eventually(
      () => activityTypes(task.id),
      (t) => t.length === 2,
      EVENT_WAIT_MS,
    );
    expect(await activityTypes(task.id)).toEqual(['task.created', 'task.updated']);
  });
});
