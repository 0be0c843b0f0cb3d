import { describe, expect, it } from 'vitest';
import { allFunctions } from '../apps.ts';
import { createTestApp, TEST_APP_TOKEN } from '../tasks/testing.ts';
import { badRequests } from '../test/bad-requests.ts';
import { DaprError, SidecarUnreachableError } from './dapr.ts';

describe('router', () => {
  it.each(badRequests)(
    '%s: 4xx problem+json, nothing written',
    async (_name, method, path, body, headers, status) => {
      const { call, dapr } = createTestApp(allFunctions);
      const response = await call(method, path, body, headers);
      expect(response.status).toBe(status ?? 400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const problem = await response.json();
      expect(problem).toMatchObject({
        status: status ?? 400,
        title: expect.any(String),
        instance: path.split('?')[0],
      });
      expect(problem.detail.length).toBeGreaterThan(10);
      expect(dapr.state.size).toBe(0);
      expect(dapr.published).toEqual([]);
    },
  );

  it('names each invalid field in `errors`', async () => {
    const { call } = createTestApp(allFunctions);
    const problem = await (await call('POST', '/tasks', { title: '', priority: 'urgent' })).json();
    expect(problem.errors.map((e: { path: string }) => e.path).sort()).toEqual(['priority', 'title']);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer nope'],
    ['another scheme', 'Basic dGVzdA=='],
  ])('refuses %s with 401', async (_name, authorization) => {
    const { raw } = createTestApp(allFunctions);
    const response = await raw('/tasks', { headers: authorization ? { authorization } : {} });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it.each([
    ['GET', '/tasks', 'getBulkState'],
    ['GET', '/dead-letters', 'getState'],
    ['POST', '/tasks', 'saveState'],
  ] as const)(
    '%s %s whose sidecar call fails: 503 with Retry-After, never a 500',
    async (method, path, call_) => {
      for (const failure of [
        new SidecarUnreachableError('daprd did not answer', new TypeError('terminated')),
        new DaprError(500, 'ERR_STATE_GET', 'the store is down'),
      ]) {
        const { call, dapr } = createTestApp(allFunctions);
        dapr.failNext(call_, failure);
        const response = await call(method, path, method === 'POST' ? { title: 'x' } : undefined);
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('2');
      }
    },
  );

  it.each([
    ['DELETE', '/dead-letters', 'GET, HEAD'],
    ['PUT', '/tasks', 'GET, HEAD, POST'],
    ['POST', '/tasks/0f8fad5b-d9cb-469f-a165-70867728950e', 'DELETE, GET, HEAD, PATCH'],
    ['OPTIONS', '/tasks/x/activity', 'GET, HEAD'],
  ])('%s %s: 405 with Allow: %s', async (method, path, allow) => {
    const { raw } = createTestApp(allFunctions);
    const response = await raw(path, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('a path no route has: 404', async () => {
    const { raw } = createTestApp(allFunctions);
    expect((await raw('/tasks/a/b/c', { method: 'GET' })).status).toBe(404);
  });

  it('answers 503 until the API token is loaded', async () => {
    const { call, setApiToken } = createTestApp(allFunctions);
    setApiToken(undefined);
    expect((await call('GET', '/tasks')).status).toBe(503);
  });

  it('serves health without a token; readiness follows the sidecar', async () => {
    const { raw, dapr } = createTestApp(allFunctions);
    expect((await raw('/healthz')).status).toBe(200);
    expect((await raw('/readyz')).status).toBe(200);
    dapr.outboundReady = false;
    const notReady = await raw('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ checks: { sidecar: false, apiToken: true } });
  });

  it('publishes an OpenAPI document with every route and a docs page', async () => {
    const { raw } = createTestApp(allFunctions);
    const document = await (await raw('/openapi.json')).json();
    expect(Object.keys(document.paths).sort()).toEqual([
      '/dead-letters',
      '/tasks',
      '/tasks/{id}',
      '/tasks/{id}/activity',
      '/tasks/{id}/complete',
    ]);
    expect(document.paths['/tasks'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CreateTask',
    );
    // Every script and style each page loads is the app's own (the browser test opens them for real).
    const pages = { '/docs': '/openapi.json', '/docs/events': '/asyncapi.json' };
    const loaded: string[] = [];
    for (const [path, document] of Object.entries(pages)) {
      const docs = await raw(path);
      expect(docs.headers.get('content-type')).toMatch(/text\/html/);
      const page = await docs.text();
      expect(page).toContain(`url: '${document}'`);
      loaded.push(
        ...[...page.matchAll(/<script src="([^"]+)"|<link rel="stylesheet" href="([^"]+)"/g)].map(
          (match) => (match[1] ?? match[2]) as string,
        ),
      );
      // Each page links the other and both documents.
      for (const link of ['/docs', '/docs/events', '/openapi.json', '/asyncapi.json'].filter(
        (l) => l !== path,
      ))
        expect(page).toContain(`href="${link}"`);
    }
    expect(loaded.sort()).toEqual([
      '/docs/asyncapi.css',
      '/docs/asyncapi.js',
      '/docs/swagger-ui-bundle.js',
      '/docs/swagger-ui.css',
    ]);
    for (const asset of loaded) {
      const response = await raw(asset);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/(javascript|css)/);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(20_000);
    }
  });

  it('unknown routes are 404 problem+json', async () => {
    const { call } = createTestApp(allFunctions);
    const response = await call('GET', '/nope');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('daprd-only routes need the app API token', async () => {
    const { raw } = createTestApp(allFunctions);
    expect((await raw('/dapr/subscribe')).status).toBe(401);
    expect((await raw('/dapr/subscribe', { headers: { 'dapr-api-token': 'wrong' } })).status).toBe(401);
    const ok = await raw('/dapr/subscribe', { headers: { 'dapr-api-token': TEST_APP_TOKEN } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual([
      {
        pubsubname: 'pubsub',
        topic: 'task-events',
        route: '/events/onTaskEvent',
        deadLetterTopic: 'task-events-dlq',
      },
      { pubsubname: 'pubsub', topic: 'task-events-dlq', route: '/events/onDeadLetter' },
    ]);
    const event = await raw('/events/onTaskEvent', { method: 'POST', body: '{}' });
    expect(event.status).toBe(401);
  });

  it('switches bulk subscribe on for the profile with PUBSUB_BULK', async () => {
    const { raw } = createTestApp(allFunctions, { PUBSUB_BULK: 'true' });
    const subscriptions = await (
      await raw('/dapr/subscribe', { headers: { 'dapr-api-token': TEST_APP_TOKEN } })
    ).json();
    expect(
      subscriptions.map((s: { bulkSubscribe?: { enabled: boolean } }) => s.bulkSubscribe?.enabled),
    ).toEqual([true, true]);
  });

  it('answers a client 503 with Retry-After when the sidecar does not answer within REQUEST_TIMEOUT_MS', async () => {
    const { call, dapr } = createTestApp(allFunctions, { REQUEST_TIMEOUT_MS: '200' });
    // A store that stopped answering (SIGSTOP): every sidecar call hangs.
    dapr.getState = () => new Promise(() => {});
    const started = Date.now();
    const response = await call('GET', '/tasks/00000000-0000-4000-8000-000000000001');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
