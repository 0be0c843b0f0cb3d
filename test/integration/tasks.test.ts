import { describe, expect, it } from 'vitest';
import { badRequests } from '../bad-requests.ts';
import { activityTypes, api, eventually, stack } from './client.ts';

async function create(body: object = { title: 'integration' }) {
  const response = await api('POST', '/tasks', body);
  expect(response.status).toBe(201);
  return { task: await response.json(), etag: response.headers.get('etag') ?? '' };
}

describe('Task API on the real sidecar', () => {
  it('is ready, and documents itself', async () => {
    const { url } = stack();
    expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ status: 'ready' });
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(document.paths['/tasks/{id}']?.patch?.operationId).toBe('updateTask');
  });

  it('every kind of write publishes its event through the outbox to onTaskEvent', async () => {
    const { task } = await create({ title: 'events', dueAt: '2027-01-01T00:00:00Z' });
    const location = `/tasks/${task.id}`;
    expect((await api('PATCH', location, { priority: 'high' })).status).toBe(200);
    expect((await api('POST', `${location}/complete`)).status).toBe(200);
    expect((await api('DELETE', location)).status).toBe(204);
    const types = await eventually(
      () => activityTypes(task.id),
      (t) => t.length >= 4,
    );
    expect(types).toEqual(['task.created', 'task.updated', 'task.completed', 'task.deleted']);
    expect((await api('GET', location)).status).toBe(404);
  });

  it('a write that fails validation publishes nothing', async () => {
    const { task } = await create();
    expect((await api('PATCH', `/tasks/${task.id}`, { title: '' })).status).toBe(400);
    await eventually(
      () => activityTypes(task.id),
      (t) => t.length >= 1,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await activityTypes(task.id)).toEqual(['task.created']);
  });

  it('GET gives the ETag; a stale If-Match is 412 and changes nothing', async () => {
    const { task, etag } = await create();
    const read = await api('GET', `/tasks/${task.id}`);
    expect(read.headers.get('etag')).toBe(etag);
    expect((await api('PATCH', `/tasks/${task.id}`, { title: 'first' }, { 'if-match': etag })).status).toBe(
      200,
    );
    const stale = await api('PATCH', `/tasks/${task.id}`, { title: 'second' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toBe('application/problem+json');
    expect((await api('DELETE', `/tasks/${task.id}`, undefined, { 'if-match': etag })).status).toBe(412);
    expect((await (await api('GET', `/tasks/${task.id}`)).json()).title).toBe('first');
  });

  it('concurrent PATCHes without If-Match lose no field', async () => {
    for (let round = 0; round < 3; round++) {
      const { task } = await create({ title: 'race' });
      const changes = [
        { title: `race ${round}` },
        { description: 'described' },
        { priority: 'high' },
        { dueAt: '2027-02-01T00:00:00Z' },
        { remindAt: '2027-01-31T00:00:00Z' },
        { tags: ['raced'] },
      ];
      const responses = await Promise.all(changes.map((change) => api('PATCH', `/tasks/${task.id}`, change)));
      expect(responses.map((r) => r.status)).toEqual(changes.map(() => 200));
      const final = await (await api('GET', `/tasks/${task.id}`)).json();
      expect(final).toMatchObject({
        title: `race ${round}`,
        description: 'described',
        priority: 'high',
        dueAt: '2027-02-01T00:00:00.000Z',
        remindAt: '2027-01-31T00:00:00.000Z',
        tags: ['raced'],
      });
    }
  });

  it('pages 500 tasks: each exactly once, while more are being created', async () => {
    const tag = `page-${Date.now()}`;
    const ids: string[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const made = await Promise.all(
        Array.from({ length: 10 }, (_, n) => create({ title: `p${batch}-${n}`, tags: [tag] })),
      );
      ids.push(...made.map((m) => m.task.id));
    }
    const walkAndCreate = async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/tasks?tag=${tag}&limit=37${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const [page] = await Promise.all([api('GET', query), create({ title: 'concurrent', tags: [tag] })]);
        expect(page.status).toBe(200);
        const body = await page.json();
        seen.push(...body.items.map((t: { id: string }) => t.id));
        cursor = body.nextCursor;
      } while (cursor);
      return seen;
    };
    const seen = await walkAndCreate();
    expect(new Set(seen).size).toBe(seen.length);
    const seenSet = new Set(seen);
    expect(ids.filter((id) => !seenSet.has(id))).toEqual([]);
  }, 180_000);

  it.each(badRequests)('%s: 4xx problem+json', async (_name, method, path, body, headers, status) => {
    const response = await api(method, path, body, headers);
    expect(response.status).toBe(status ?? 400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect((await response.json()).detail.length).toBeGreaterThan(10);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer wrong' }],
  ])('refuses %s with 401', async (_name, headers) => {
    const response = await fetch(`${stack().url}/tasks`, { headers });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('routes only daprd calls refuse requests without its app token', async () => {
    const { url, appToken } = stack();
    const event = { id: 'forged', type: 'task.created', source: 'x', data: {} };
    for (const [path, init] of [
      ['/dapr/subscribe', {}],
      ['/events/onTaskEvent', { method: 'POST', body: JSON.stringify(event) }],
      [
        '/events/onTaskEvent',
        { method: 'POST', body: JSON.stringify(event), headers: { 'dapr-api-token': 'wrong' } },
      ],
    ] as const) {
      const response = await fetch(`${url}${path}`, init);
      expect(response.status).toBe(401);
    }
    const subscribe = await fetch(`${url}/dapr/subscribe`, { headers: { 'dapr-api-token': appToken } });
    expect(await subscribe.json()).toContainEqual(expect.objectContaining({ topic: 'task-events' }));
  });
});
