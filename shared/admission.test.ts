import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { allFunctions } from '../apps.ts';
import { createTestApp, TEST_APP_TOKEN } from '../tasks/testing.ts';
import {
  type AdmissionLimits,
  admission,
  OVERLOAD_RETRY_AFTER_SECONDS,
  type ShedReason,
} from './admission.ts';

function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** An app behind admission whose requests to /work/<n> run until release(n); /fail/<n> throws then. */
function gatedApp(limits: Partial<AdmissionLimits>) {
  const shed: ShedReason[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const gate = (n: string) => {
    if (!gates.has(n)) gates.set(n, deferred());
    return gates.get(n) as ReturnType<typeof deferred>;
  };
  const started: string[] = [];
  const app = new Hono();
  app.use(
    admission({ maxInflight: 2, maxQueued: 1, maxWaitMs: 10_000, ...limits }, (reason) => shed.push(reason)),
  );
  app.on(['GET', 'POST'], '/:kind/:n', async (c) => {
    const n = c.req.param('n');
    started.push(n);
    await gate(n).promise;
    if (c.req.param('kind') === 'fail') throw new Error('failed');
    return c.text(n);
  });
  app.onError((_error, c) => c.text('error', 500));
  return {
    shed,
    started,
    request: (path: string, method = 'GET') => app.request(path, { method }),
    release: (n: string) => gate(n).resolve(),
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

async function expectShed(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe(String(OVERLOAD_RETRY_AFTER_SECONDS));
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(await response.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
}

describe('admission', () => {
  it('runs maxInflight requests at once, queues the next and sheds the rest at once', async () => {
    const app = gatedApp({});
    const first = app.request('/work/1');
    const second = app.request('/work/2');
    const queued = app.request('/work/3');
    await tick();
    expect(app.started).toEqual(['1', '2']);
    await expectShed(await app.request('/work/4'));
    expect(app.shed).toEqual(['full']);

    app.release('1');
    expect(await (await first).text()).toBe('1');
    await tick();
    expect(app.started).toEqual(['1', '2', '3']);
    app.release('2');
    app.release('3');
    expect((await second).status).toBe(200);
    expect((await queued).status).toBe(200);
  });

  it('serves the waiting first come, first served', async () => {
    const app = gatedApp({ maxInflight: 1, maxQueued: 3 });
    const all = ['1', '2', '3', '4'].map((n) => app.request(`/work/${n}`));
    for (const n of ['1', '2', '3', '4']) {
      await tick();
      expect(app.started.at(-1)).toBe(n);
      app.release(n);
    }
    expect((await Promise.all(all)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('sheds a request that waited maxWaitMs without a slot, and forgets it', async () => {
    const app = gatedApp({ maxInflight: 1, maxQueued: 1, maxWaitMs: 20 });
    const running = app.request('/work/1');
    await tick();
    await expectShed(await app.request('/work/2'));
    expect(app.shed).toEqual(['waited']);
    // The one that gave up holds no place: the next waits in its stead and gets the slot.
    const next = app.request('/work/3');
    await tick();
    app.release('1');
    await running;
    await tick();
    expect(app.started).toEqual(['1', '3']);
    app.release('3');
    expect((await next).status).toBe(200);
  });

  it('frees the slot of a request that failed', async () => {
    const app = gatedApp({ maxInflight: 1, maxQueued: 0 });
    const failing = app.request('/fail/1');
    await tick();
    app.release('1');
    expect((await failing).status).toBe(500);
    app.release('2');
    expect((await app.request('/work/2')).status).toBe(200);
  });

  it('holds the slot until the work ends, even when something outside answered first', async () => {
    const shed: ShedReason[] = [];
    const { promise: work, resolve: finish } = deferred();
    const app = new Hono();
    // As REQUEST_TIMEOUT_MS does: answer early, let the work go on behind the answer.
    app.use(async (c, next) => {
      await Promise.race([next(), tick()]);
      if (!c.finalized) c.res = c.text('early', 503);
    });
    app.use(admission({ maxInflight: 1, maxQueued: 0, maxWaitMs: 0 }, (reason) => shed.push(reason)));
    app.get('/slow', async (c) => {
      await work;
      return c.text('done');
    });
    expect(await (await app.request('/slow')).text()).toBe('early');
    expect((await app.request('/slow')).headers.get('retry-after')).toBe('1');
    expect(shed).toEqual(['full']);
    finish();
    await tick();
    expect(await (await app.request('/slow')).text()).toBe('done');
  });

  it('with maxInflight 0, admits everything', async () => {
    const app = gatedApp({ maxInflight: 0, maxQueued: 0 });
    const all = ['1', '2', '3', '4', '5'].map((n) => app.request(`/work/${n}`));
    await tick();
    expect(app.started).toHaveLength(5);
    for (const n of ['1', '2', '3', '4', '5']) app.release(n);
    expect((await Promise.all(all)).every((r) => r.status === 200)).toBe(true);
    expect(app.shed).toEqual([]);
  });
});

describe('admission in the router', () => {
  it('sheds clients only: health, documents and daprd are answered while every slot is taken', async () => {
    const app = createTestApp(allFunctions, { MAX_INFLIGHT_REQUESTS: '1', MAX_QUEUED_REQUESTS: '0' });
    const { promise: held, resolve: unhold } = deferred();
    const getState = app.dapr.getState.bind(app.dapr);
    app.dapr.getState = async (store, key) => {
      if (key.endsWith('0000000000ff')) await held;
      return getState(store, key);
    };
    const holding = app.call('GET', '/tasks/00000000-0000-4000-8000-0000000000ff');
    await tick();

    await expectShed(await app.call('POST', '/tasks', { title: 'one too many' }));
    expect(app.dapr.state.size).toBe(0);
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs'])
      expect((await app.raw(path)).status, path).toBe(200);
    expect((await app.raw('/dapr/subscribe', { headers: { 'dapr-api-token': TEST_APP_TOKEN } })).status).toBe(
      200,
    );
    const delivery = await app.fromDaprd('/events/onTaskEvent', {
      specversion: '1.0',
      id: 'e1',
      type: 'task.created',
      source: 'tasks',
      subject: '00000000-0000-4000-8000-000000000001',
      seq: '1',
      data: { bad: true },
    });
    expect(delivery.status).toBe(200);

    unhold();
    expect((await holding).status).toBe(404);
    expect((await app.call('POST', '/tasks', { title: 'now there is room' })).status).toBe(201);
  });
});
