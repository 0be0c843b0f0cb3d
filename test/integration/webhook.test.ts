import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, Scope } from '../../scripts/lib/processes.ts';
import { freePorts, projectRoot, type Stack, startStack } from '../../scripts/lib/stack.ts';
import { eventually } from './client.ts';
import { testProfile, testResources } from './resources.ts';

/**
 * Infrastructure is configuration: the same reminderJob delivers through
 * bindings.http to a webhook (URL and token from the secret store) when the
 * `notifications` component says so. A stack of its own, with that component
 * instead of the embedded profile's localstorage one.
 */
describe('notifications through bindings.http to a webhook', () => {
  const received: Array<{ method: string; headers: IncomingHttpHeaders; body: unknown }> = [];
  const webhook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ method: request.method ?? '', headers: request.headers, body: JSON.parse(body) });
      response.writeHead(204).end();
    });
  });
  const webhookToken = randomBytes(12).toString('hex');
  let workDir = '';
  let stack: Stack | undefined;
  const scope = new Scope();

  beforeAll(async () => {
    const port = await freePort();
    await new Promise<void>((resolve) => webhook.listen(port, '127.0.0.1', resolve));
    workDir = await mkdtemp(join(tmpdir(), 'tasks-webhook-'));
    await mkdir(join(workDir, '.data'), { recursive: true });
    await writeFile(
      join(workDir, '.data', 'secrets.json'),
      JSON.stringify({
        'tasks-api-token': randomBytes(24).toString('base64url'),
        'notifications-webhook': { url: `http://127.0.0.1:${port}/hooks/tasks`, token: webhookToken },
      }),
    );
    const resources = await testResources(testProfile(), workDir);
    await copyFile(
      join(import.meta.dirname, 'fixtures', 'notifications-webhook.yaml'),
      join(resources.resourcesPaths[0] ?? '', 'notifications.yaml'),
    );
    stack = await startStack({
      scope,
      profile: testProfile(),
      workDir,
      ports: await freePorts(),
      ...resources,
      app: [process.execPath, join(projectRoot, 'dist', 'all.mjs')],
      log: () => {},
    });
  });
  afterAll(async () => {
    await scope.stop();
    webhook.close();
    if (workDir && !process.env.KEEP_TEST_DATA) await rm(workDir, { recursive: true, force: true });
  });

  it('posts one reminder with the token header and an Idempotency-Key', async () => {
    const current = stack as Stack;
    const remindAt = new Date(Date.now() + 3000).toISOString();
    const response = await fetch(`${current.url}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${current.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'renew the passport', remindAt }),
    });
    const task = (await response.json()) as { id: string };
    await eventually(
      async () => received.length,
      (n) => n >= 1,
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(received).toHaveLength(1);
    const [call] = received;
    expect(call?.method).toBe('POST');
    expect(call?.headers['x-webhook-token']).toBe(webhookToken);
    expect(call?.headers['idempotency-key']).toMatch(new RegExp(`^reminder-${task.id}-`));
    expect(call?.body).toMatchObject({ kind: 'task.reminder', taskId: task.id, title: 'renew the passport' });
  });
});
