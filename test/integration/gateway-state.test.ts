import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DaprError, EtagMismatchError } from '../../shared/dapr.ts';
import { createHttpGateway } from '../../shared/dapr-http.ts';
import { stack } from './client.ts';

/**
 * The gateway's state calls on the real daprd and the profile's store
 * (SQLite, Redis or PostgreSQL): what the fake gateway of the unit tests
 * claims they do.
 */
const gateway = () => createHttpGateway({ baseUrl: `http://127.0.0.1:${stack().daprHttp}` });
const STORE = 'statestore';

describe('state through the real daprd', () => {
  it('deletes a key, only with its current etag when one is given; a missing key is no error', async () => {
    const dapr = gateway();
    const key = `gateway-test|${randomUUID()}`;
    await dapr.saveState(STORE, [{ key, value: { n: 1 } }]);
    const first = await dapr.getState(STORE, key);
    await dapr.saveState(STORE, [{ key, value: { n: 2 } }]);
    const second = await dapr.getState(STORE, key);
    expect(second?.value).toEqual({ n: 2 });

    // A stale etag: refused, and the key is still there.
    const stale = await dapr
      .deleteState(STORE, key, { etag: first?.etag as string })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(DaprError);
    expect(stale, String(stale)).toBeInstanceOf(EtagMismatchError);
    expect((await dapr.getState(STORE, key))?.value).toEqual({ n: 2 });

    await dapr.deleteState(STORE, key, { etag: second?.etag as string });
    expect(await dapr.getState(STORE, key)).toBeUndefined();
    await dapr.deleteState(STORE, key);
    await dapr.deleteState(STORE, `gateway-test|${randomUUID()}`);
  });
});
