import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scope } from '../../scripts/lib/processes.ts';
import { freePorts, projectRoot, type Stack, startStack } from '../../scripts/lib/stack.ts';
import { type ApiResponse, appLog, eventually } from './client.ts';
import { testProfile, testResources } from './resources.ts';

/**
 * A stack of its own (scheduler, daprd, app; the suite's profile with bulk
 * subscribe switched on) that is stopped and started again around a
 * scheduled reminder: the job lives in the scheduler's embedded etcd under
 * `.data/scheduler`, so it fires after the restart.
 */
describe('jobs survive a restart of the app, daprd and the scheduler; failed deliveries are retried', async () => {
  const workDir = await mkdtemp(join(tmpdir(), 'tasks-restart-'));
  const ports = await freePorts();
  const resources = await testResources(testProfile(), workDir);
  const scope = new Scope();
  const start = () =>
    startStack({
      scope,
      profile: testProfile(),
      workDir,
      ports,
      ...resources,
      appEnv: { PUBSUB_BULK: 'true' },
      app: [process.execPath, join(projectRoot, 'dist', 'all.mjs')],
      log: () => {},
    });
  let stack: Stack | undefined;

  beforeAll(async () => {
    stack = await start();
  });
  afterAll(async () => {
    await scope.stop();
    if (!process.env.KEEP_TEST_DATA) await rm(workDir, { recursive: true, force: true });
  });

  const api = async (current: Stack, method: string, path: string, body?: unknown) =>
    (await fetch(`${current.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${current.apiToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })) as ApiResponse;
  const jobStatus = async (id: string) =>
    (await fetch(`http://127.0.0.1:${ports.daprHttp}/v1.0/jobs/reminder-${id}`)).status;
  const notifications = async (id: string) =>
    (await readdir(join(workDir, '.data', 'notifications')).catch(() => [] as string[])).filter((f) =>
      f.includes(id),
    );

  it('delivers task-events in bulk when the profile switches it on', async () => {
    const current = stack as Stack;
    const subscriptions = await (
      await fetch(`${current.url}/dapr/subscribe`, { headers: { 'dapr-api-token': current.appToken } })
    ).json();
    expect(subscriptions).toContainEqual(
      expect.objectContaining({
        topic: 'task-events',
        bulkSubscribe: expect.objectContaining({ enabled: true }),
      }),
    );
    const task = await (await api(current, 'POST', '/tasks', { title: 'bulk' })).json();
    await eventually(
      async () => (await (await api(current, 'GET', `/tasks/${task.id}/activity`)).json()).entries.length,
      (n) => n === 1,
      60_000,
    );
  });

  it('an event whose handler fails while the scheduler is down is redelivered until it succeeds', async () => {
    const current = stack as Stack;
    await current.scheduler?.stop();
    // onTaskEvent cannot schedule the reminder job without the scheduler: it throws, the delivery is a RETRY.
    const remindAt = new Date(Date.now() + 3_600_000).toISOString();
    const task = await (await api(current, 'POST', '/tasks', { title: 'retry', remindAt })).json();
    const failures = await eventually(
      () => appLog('event handler failed; daprd will redeliver', { subject: task.id }, current.logDir),
      (lines) => lines.length > 0,
      60_000,
    );
    expect(await jobStatus(task.id)).not.toBe(200);
    await current.scheduler?.start();
    // A later delivery of the same event succeeds: the job appears, and the history has the event once.
    await eventually(
      () => jobStatus(task.id),
      (status) => status === 200,
      90_000,
    );
    const entries = (await (await api(current, 'GET', `/tasks/${task.id}/activity`)).json()).entries;
    expect(entries.map((e: { type: string }) => e.type)).toEqual(['task.created']);
    console.log(`${failures.length} failed deliveries before the scheduler came back`);
  });

  it('a reminder scheduled before the restart fires after it', async () => {
    let current = stack as Stack;
    // Far enough ahead for a restart of the whole Kafka stack on a busy machine (7-8 s alone, over 15 s beside other load).
    const remindAt = new Date(Date.now() + 30_000).toISOString();
    const task = await (await api(current, 'POST', '/tasks', { title: 'survive', remindAt })).json();
    await eventually(
      () => jobStatus(task.id),
      (status) => status === 200,
      30_000,
    );

    const stopped = Date.now();
    await current.stop();
    stack = undefined;
    stack = current = await start();
    const restartMs = Date.now() - stopped;
    expect(Date.now()).toBeLessThan(Date.parse(remindAt)); // the restart finished before the job was due
    expect(await notifications(task.id)).toEqual([]);

    await eventually(
      () => notifications(task.id),
      (files) => files.length === 1,
      60_000,
    );
    const entries = await eventually(
      async () => (await (await api(current, 'GET', `/tasks/${task.id}/activity`)).json()).entries,
      (list: Array<{ type: string }>) => list.some((e) => e.type === 'task.reminder'),
    );
    expect(entries.map((e: { type: string }) => e.type)).toEqual(['task.created', 'task.reminder']);
    expect(await appLog('reminder sent', { taskId: task.id }, current.logDir)).toHaveLength(1);
    console.log(`stack restarted in ${restartMs} ms; reminder fired at ${remindAt}`);
  });
});
