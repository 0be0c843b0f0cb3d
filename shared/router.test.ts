import { describe, expect, it } from 'vitest';
import { allFunctions } from '../apps.ts';
import { createTestApp, TEST_APP_TOKEN } from './testing.ts';

const id = '6d1f3e43-5e0b-4a4b-9a53-111111111111';

/** Bad requests and the status each must get; none may be a 500 or leave anything written. */
const badInputs: Array<[string, string, string, unknown, Record<string, string>?, number?]> = [
  ['empty title', 'POST', '/tasks', { title: '' }],
  ['blank title', 'POST', '/tasks', { title: '   ' }],
  ['title too long', 'POST', '/tasks', { title: 'x'.repeat(201) }],
  ['missing title', 'POST', '/tasks', { priority: 'low' }],
  ['title not a string', 'POST', '/tasks', { title: 42 }],
  ['unknown field', 'POST', '/tasks', { title: 'a', owner: 'me' }],
  ['bad priority', 'POST', '/tasks', { title: 'a', priority: 'urgent' }],
  ['dueAt not a date', 'POST', '/tasks', { title: 'a', dueAt: 'tomorrow' }],
  ['dueAt without offset', 'POST', '/tasks', { title: 'a', dueAt: '2026-12-01T10:00:00' }],
  ['tags not an array', 'POST', '/tasks', { title: 'a', tags: 'x' }],
  ['tag with a space', 'POST', '/tasks', { title: 'a', tags: ['two words'] }],
  ['too many tags', 'POST', '/tasks', { title: 'a', tags: Array.from({ length: 21 }, (_, n) => `t${n}`) }],
  ['body is an array', 'POST', '/tasks', [{ title: 'a' }]],
  ['body is null', 'POST', '/tasks', 'null'],
  ['malformed JSON', 'POST', '/tasks', '{"title":'],
  ['wrong content type', 'POST', '/tasks', 'title=a', { 'content-type': 'text/plain' }, 415],
  ['body too large', 'POST', '/tasks', { title: 'a', description: 'x'.repeat(70_000) }, {}, 413],
  ['empty PATCH', 'PATCH', `/tasks/${id}`, {}],
  ['PATCH unknown field', 'PATCH', `/tasks/${id}`, { status: 'done' }],
  ['PATCH null title', 'PATCH', `/tasks/${id}`, { title: null }],
  ['id not a UUID', 'GET', '/tasks/42', undefined],
  ['limit 0', 'GET', '/tasks?limit=0', undefined],
  ['limit too big', 'GET', '/tasks?limit=1000', undefined],
  ['limit not a number', 'GET', '/tasks?limit=ten', undefined],
  ['unknown status filter', 'GET', '/tasks?status=archived', undefined],
  ['dueBefore not a date', 'GET', '/tasks?dueBefore=soon', undefined],
  ['unknown query parameter', 'GET', '/tasks?sort=title', undefined],
  ['forged cursor', 'GET', '/tasks?cursor=eyJwIjotMX0', undefined],
];

describe('router', () => {
  it.each(badInputs)(
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
      '/tasks',
      '/tasks/{id}',
      '/tasks/{id}/activity',
      '/tasks/{id}/complete',
    ]);
    expect(document.paths['/tasks'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CreateTask',
    );
    const docs = await raw('/docs');
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    expect(await docs.text()).toContain('/tasks/{id}/complete');
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
    ]);
    const event = await raw('/events/onTaskEvent', { method: 'POST', body: '{}' });
    expect(event.status).toBe(401);
  });
});
