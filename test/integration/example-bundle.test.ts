import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, httpOk, Scope, startProcess, untilReady } from '../../scripts/lib/processes.ts';
import { projectRoot } from '../../scripts/lib/stack.ts';
import { type ApiResponse, daprd, eventually, stack } from './client.ts';

/**
 * The example app of docs/FUNCTIONS.md, from its own bundle
 * (dist/examples/greetings-api.mjs, built by build.mjs's examples suite),
 * on the suite's real daprd: a greeting saved and read back through the
 * sidecar, its event published, its follow-up job scheduled. daprd delivers
 * to the Task API, so the greetings app only makes calls here (what it
 * receives is the unit tests').
 */
const scope = new Scope();
let url: string;
const token = () => stack().apiToken;

beforeAll(async () => {
  const bundle = join(projectRoot, 'dist', 'examples', 'greetings-api.mjs');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: npm run build makes it`);
  const [port, metrics] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${port}`;
  const healthy = () => httpOk(`${url}/readyz`);
  const app = startProcess('greetings-api', process.execPath, [bundle], {
    scope,
    cwd: projectRoot,
    output: join(stack().logDir, 'greetings-api.log'),
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metrics),
      DAPR_HTTP_PORT: String(stack().daprHttp),
      APP_API_TOKEN: stack().appToken,
      // The suite's secret store holds the Task API's token: the greetings use the same one here.
      API_TOKEN_SECRET: 'tasks-api-token',
    },
    ready: healthy,
  });
  await untilReady(app, healthy);
}, 60_000);

afterAll(() => scope.stop());

const call = async (method: string, path: string, body?: unknown) =>
  (await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })) as ApiResponse;

describe('the example app from its bundle, on the real daprd', () => {
  it('greets, reads the greeting back and schedules its follow-up', async () => {
    const followUpAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await call('POST', '/greetings', { name: 'Ada', followUpAt });
    expect(created.status).toBe(201);
    const greeting = await created.json();
    expect(created.headers.get('location')).toBe(`/greetings/${greeting.id}`);
    const read = await call('GET', `/greetings/${greeting.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(greeting);
    // The state is daprd's store's: the Task API's sidecar sees the same key.
    const stored = await daprd(
      'GET',
      `/v1.0/state/statestore/${encodeURIComponent(`greeting|${greeting.id}`)}`,
    );
    expect(await stored.json()).toEqual(greeting);
    const job = await eventually(
      () => daprd('GET', `/v1.0/jobs/follow-up-${greeting.id}`),
      (response) => response.status === 200,
    );
    expect(Date.parse((await job.json()).dueTime)).toBe(Date.parse(followUpAt));
    await daprd('DELETE', `/v1.0/jobs/follow-up-${greeting.id}`);
  });

  it('answers bad input with problem details, and serves its own documents', async () => {
    const invalid = await call('POST', '/greetings', { name: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toBe('application/problem+json');
    const openapi = await (await call('GET', '/openapi.json')).json();
    expect(Object.keys(openapi.paths).sort()).toEqual(['/greetings', '/greetings/{id}']);
    const asyncapi = await (await call('GET', '/asyncapi.json')).json();
    expect(Object.keys(asyncapi.operations)).toEqual(['publish-greetings']);
    expect((await fetch(`${url}/docs/asyncapi.js`)).status).toBe(200);
  });
});
