import { describe, expect, it } from 'vitest';
import { reminderJobName } from '../../tasks/reminders.ts';
import { createTestApp } from '../../tasks/testing.ts';
import { completeTask } from '../completeTask/index.ts';
import { createTask } from '../createTask/index.ts';
import { deleteTask } from '../deleteTask/index.ts';
import { getTask } from '../getTask/index.ts';
import { updateTask } from '../updateTask/index.ts';
import { reminderJob } from './index.ts';

const remindAt = '2026-11-27T12:00:00.000Z';

/** The Task API and reminderJob in one test app: the job reads the task through (fake) service invocation. */
async function setup() {
  const app = createTestApp([createTask, getTask, updateTask, completeTask, deleteTask, reminderJob]);
  const task = await (await app.call('POST', '/tasks', { title: 'call the bank', remindAt })).json();
  app.dapr.published.length = 0;
  const fire = (data: unknown = { taskId: task.id, remindAt, version: task.updatedAt }) =>
    app.fromDaprd(`/job/${reminderJobName(task.id)}`, data);
  return { ...app, task, fire };
}

describe('reminderJob', () => {
  it('sends one notification through the output binding and publishes task.reminder', async () => {
    const { fire, dapr, task } = await setup();
    const response = await fire();
    expect(response.status).toBe(200);
    expect(dapr.bindingCalls).toEqual([
      {
        name: 'notifications',
        operation: 'create',
        data: expect.objectContaining({
          kind: 'task.reminder',
          taskId: task.id,
          title: 'call the bank',
          remindAt,
        }),
        metadata: {
          fileName: `reminder-${task.id}-20261127T120000000Z.json`,
          'Idempotency-Key': `reminder-${task.id}-20261127T120000000Z`,
        },
      },
    ]);
    expect(dapr.published.map((p) => p.cloudEvent)).toEqual([
      {
        id: `task.reminder:${task.id}:${remindAt}`,
        type: 'task.reminder',
        source: 'tasks',
        subject: task.id,
        data: expect.objectContaining({ id: task.id }),
      },
    ]);
  });

  it('never sends twice when the job fires twice', async () => {
    const { fire, dapr } = await setup();
    await fire();
    expect((await fire()).status).toBe(200);
    expect(dapr.bindingCalls).toHaveLength(1);
    expect(dapr.published).toHaveLength(1);
  });

  it('sends nothing once the task is done, deleted, or reminds at another time', async () => {
    for (const change of ['complete', 'delete', 'move'] as const) {
      const { fire, dapr, call, task } = await setup();
      if (change === 'complete') await call('POST', `/tasks/${task.id}/complete`);
      if (change === 'delete') await call('DELETE', `/tasks/${task.id}`);
      if (change === 'move') await call('PATCH', `/tasks/${task.id}`, { remindAt: '2026-11-27T13:00:00Z' });
      dapr.published.length = 0;
      expect((await fire()).status).toBe(200);
      expect(dapr.bindingCalls).toEqual([]);
      expect(dapr.published).toEqual([]);
    }
  });

  it('fails (so the scheduler fires it again) when publishing fails, then sends once', async () => {
    const { fire, dapr } = await setup();
    dapr.failNext('publishCloudEvent', new Error('broker down'));
    expect((await fire()).status).toBe(500);
    expect((await fire()).status).toBe(200);
    expect((await fire()).status).toBe(200);
    // The retry repeats the notification under the same file name and key: one notification.
    expect(new Set(dapr.bindingCalls.map((c) => c.metadata.fileName)).size).toBe(1);
    expect(dapr.published).toHaveLength(1);
  });

  it('fails while the Task API cannot be read, so nothing is decided on a guess', async () => {
    const { fire, dapr } = await setup();
    dapr.failNext('invokeMethod', new Error('sidecar down'));
    expect((await fire()).status).toBe(500);
    expect(dapr.bindingCalls).toEqual([]);
  });

  it('drops a payload that is not a reminder', async () => {
    const { fire, dapr } = await setup();
    expect(await (await fire({ taskId: 'nope' })).json()).toEqual({ status: 'DROP' });
    expect(dapr.bindingCalls).toEqual([]);
  });
});
