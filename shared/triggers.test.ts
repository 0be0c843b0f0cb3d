import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApp, TEST_APP_TOKEN } from '../tasks/testing.ts';
import { defineFunction } from './function.ts';

const Data = z.strictObject({ n: z.number() });
const seen: number[] = [];

/** Test-only functions: they record what they got and fail on request. */
const recorder = defineFunction({
  name: 'recorder',
  trigger: { kind: 'topic', topic: 'numbers', data: Data, bulk: true },
  handler: async (event) => {
    if (event.data.n < 0) throw new Error('negative numbers fail (for the test)');
    if (event.data.n === 0) return 'DROP';
    seen.push(event.data.n);
    return undefined;
  },
});
const job = defineFunction({
  name: 'numberJob',
  trigger: { kind: 'job', prefix: 'number-', data: Data },
  handler: async ({ data }) => {
    if (data.n < 0) throw new Error('negative numbers fail (for the test)');
    seen.push(data.n);
  },
});
const binding = defineFunction({
  name: 'sweep',
  trigger: { kind: 'binding', binding: 'sweep', data: z.undefined() },
  handler: async () => {
    seen.push(-1);
  },
});

function post(raw: ReturnType<typeof createTestApp>['raw'], path: string, body: unknown) {
  return raw(path, {
    method: 'POST',
    headers: { 'dapr-api-token': TEST_APP_TOKEN, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const event = (id: string, data: unknown) => ({
  id,
  type: 'number',
  source: 'test',
  specversion: '1.0',
  data,
});

describe('event triggers', () => {
  it('subscribes with bulk delivery when the function asks for it', async () => {
    const { raw } = createTestApp([recorder]);
    const response = await raw('/dapr/subscribe', { headers: { 'dapr-api-token': TEST_APP_TOKEN } });
    expect(await response.json()).toEqual([
      expect.objectContaining({
        topic: 'numbers',
        route: '/events/recorder',
        bulkSubscribe: expect.any(Object),
      }),
    ]);
  });

  it.each([
    ['a handled event', event('1', { n: 1 }), 'SUCCESS'],
    ['a throw', event('2', { n: -1 }), 'RETRY'],
    ['an explicit DROP', event('3', { n: 0 }), 'DROP'],
    ['data that does not match the schema', event('4', { n: 'one' }), 'DROP'],
    ['a body that is not a CloudEvent', { hello: 'world' }, 'DROP'],
  ])('acks %s as %s', async (_name, body, status) => {
    const { raw } = createTestApp([recorder]);
    const response = await post(raw, '/events/recorder', body);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status });
  });

  it('acks each entry of a bulk delivery on its own', async () => {
    const { raw } = createTestApp([recorder]);
    const entries = [
      { entryId: 'a', event: event('5', { n: 5 }) },
      { entryId: 'b', event: event('6', { n: -1 }) },
      { entryId: 'c', event: event('7', { n: 0 }) },
      { entryId: 'd', event: event('8', { bad: true }) },
    ];
    const response = await post(raw, '/events/recorder', { id: 'bulk', topic: 'numbers', entries });
    expect(await response.json()).toEqual({
      statuses: [
        { entryId: 'a', status: 'SUCCESS' },
        { entryId: 'b', status: 'RETRY' },
        { entryId: 'c', status: 'DROP' },
        { entryId: 'd', status: 'DROP' },
      ],
    });
  });

  it('routes a job by name prefix; an invalid payload or an unknown name is dropped, a throw is a 500 so the job fires again', async () => {
    const { raw } = createTestApp([job]);
    seen.length = 0;
    expect(await (await post(raw, '/job/number-7', { n: 7 })).json()).toEqual({ status: 'SUCCESS' });
    expect(seen).toEqual([7]);
    expect(await (await post(raw, '/job/number-x', { n: 'x' })).json()).toEqual({ status: 'DROP' });
    expect((await post(raw, '/job/number-neg', { n: -1 })).status).toBe(500);
    // No function here handles it, so none ever will: acknowledged, not fired again and again.
    const stray = await post(raw, '/job/other-1', { n: 1 });
    expect(stray.status).toBe(200);
    expect(await stray.json()).toEqual({ status: 'DROP' });
  });

  it("answers the input binding's OPTIONS probe and runs the function on POST", async () => {
    const { raw } = createTestApp([binding]);
    seen.length = 0;
    const headers = { 'dapr-api-token': TEST_APP_TOKEN };
    expect((await raw('/sweep', { method: 'OPTIONS', headers })).status).toBe(200);
    expect((await raw('/sweep', { method: 'POST', headers })).status).toBe(200);
    expect(seen).toEqual([-1]);
    expect((await raw('/sweep', { method: 'POST' })).status).toBe(401);
  });

  it('runs the bulk entries of one subject in order and different subjects side by side', async () => {
    const log: string[] = [];
    const slow = defineFunction({
      name: 'slow',
      trigger: { kind: 'topic', topic: 'slow', data: Data },
      handler: async (event) => {
        log.push(`start ${event.subject}:${event.data.n}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        log.push(`end ${event.subject}:${event.data.n}`);
        return undefined;
      },
    });
    const { raw } = createTestApp([slow]);
    const entry = (entryId: string, subject: string, n: number) => ({
      entryId,
      event: { ...event(entryId, { n }), subject },
    });
    const entries = [entry('1', 'a', 1), entry('2', 'b', 1), entry('3', 'a', 2)];
    const response = await post(raw, '/events/slow', { entries });
    expect((await response.json()).statuses.map((s: { entryId: string }) => s.entryId)).toEqual([
      '1',
      '2',
      '3',
    ]);
    // b started before a's first entry ended; a's second entry started only after its first ended.
    expect(log.indexOf('start b:1')).toBeLessThan(log.indexOf('end a:1'));
    expect(log.indexOf('start a:2')).toBeGreaterThan(log.indexOf('end a:1'));
  });

  it("retries a subject's later bulk entries after one of its entries asks for a retry, so order holds", async () => {
    const { raw } = createTestApp([recorder]);
    seen.length = 0;
    const entry = (entryId: string, subject: string, n: number) => ({
      entryId,
      event: { ...event(entryId, { n }), subject },
    });
    const entries = [entry('1', 'a', -1), entry('2', 'b', 2), entry('3', 'a', 3), entry('4', 'a', 0)];
    const response = await post(raw, '/events/recorder', { entries });
    expect((await response.json()).statuses).toEqual([
      { entryId: '1', status: 'RETRY' },
      { entryId: '2', status: 'SUCCESS' },
      { entryId: '3', status: 'RETRY' },
      { entryId: '4', status: 'RETRY' },
    ]);
    expect(seen).toEqual([2]);
  });

  it("hands the publisher's extension attributes to the handler, without daprd's own", async () => {
    const got: Array<Record<string, string>> = [];
    const ext = defineFunction({
      name: 'ext',
      trigger: { kind: 'topic', topic: 'ext', data: Data },
      handler: async (e) => {
        got.push(e.extensions);
        return undefined;
      },
    });
    const { raw } = createTestApp([ext]);
    const delivered = { ...event('x', { n: 1 }), prevtime: 'p', topic: 'ext', traceparent: 't', count: 3 };
    expect(await (await post(raw, '/events/ext', delivered)).json()).toEqual({ status: 'SUCCESS' });
    expect(got).toEqual([{ prevtime: 'p' }]);
  });

  it('accepts a bulk delivery far larger than the client body limit (64 KiB)', async () => {
    const { raw, call } = createTestApp([recorder]);
    const padding = 'x'.repeat(2000);
    const entries = Array.from({ length: 100 }, (_, i) => ({
      entryId: String(i),
      event: { ...event(`big-${i}`, { n: i + 1 }), padding },
    }));
    const response = await post(raw, '/events/recorder', { entries });
    expect(response.status).toBe(200);
    expect((await response.json()).statuses).toHaveLength(100);
    // The public API keeps its limit.
    expect((await call('POST', '/events/recorder', { padding: 'x'.repeat(70_000) })).status).toBe(401);
    expect((await call('POST', '/tasks', { title: 'x'.repeat(70_000) })).status).toBe(413);
  });
});
