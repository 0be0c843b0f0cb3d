import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/processes.ts';
import { Load, send } from './load.ts';
import { planLoad } from './plan.ts';

/** A stand-in for the Task API: every create is 201 with a new id, every other write 200 with an ETag. */
const server = createServer((request, response) => {
  if (request.url === '/hang') return;
  const id = `00000000-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`;
  response.writeHead(request.method === 'POST' && request.url === '/tasks' ? 201 : 200, {
    'content-type': 'application/json',
    etag: '"1"',
  });
  response.end(JSON.stringify({ id, title: 't', status: 'open', updatedAt: new Date().toISOString() }));
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('the load generator', () => {
  it('sends every planned request once, each task by one worker in order, spread over durationMs', async () => {
    const plan = planLoad(7, 60);
    const load = new Load(plan, { url, apiToken: 't' }, { durationMs: 1500 });
    const begun = Date.now();
    let reachedHalf = 0;
    void load.whenSteps(plan.requests / 2).then(() => {
      reachedHalf = Date.now() - begun;
    });
    const runs = await load.run();
    const took = Date.now() - begun;
    expect(runs.flatMap((r) => r.writes)).toHaveLength(plan.requests);
    for (const run of runs) {
      expect(run.writes.map((w) => w.kind)).toEqual(['create', ...run.plan.ops.map((op) => op.kind)]);
      const sent = run.writes.map((w) => w.outcome.sentAt);
      expect([...sent].sort((a, b) => a - b)).toEqual(sent);
    }
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(reachedHalf).toBeGreaterThanOrEqual(600);
    expect(reachedHalf).toBeLessThan(took);
  });

  it('records a timeout, a refused connection and a response as what they are', async () => {
    const target = { url, apiToken: 't' };
    expect(await send(target, 'GET', '/hang', undefined, {}, 200)).toMatchObject({ error: 'timeout' });
    const closed = { url: `http://127.0.0.1:${await freePort()}`, apiToken: 't' };
    expect(await send(closed, 'GET', '/tasks')).toMatchObject({ error: 'refused' });
    const created = await send(target, 'POST', '/tasks', { title: 'x' });
    expect(created).toMatchObject({ status: 201, headers: { etag: '"1"' }, body: { title: 't' } });
  });
});
