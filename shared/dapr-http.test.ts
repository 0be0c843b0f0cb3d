import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DaprError,
  EtagMismatchError,
  InvalidJobError,
  isSidecarFailure,
  JobExistsError,
  SidecarUnreachableError,
} from './dapr.ts';
import { createHttpGateway } from './dapr-http.ts';
import type { SidecarTransport } from './sidecar-transport.ts';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fake transport that answers what daprd 1.18 answers (statuses and bodies taken from the real sidecar). */
function fakeDaprd(answer: (seen: Seen) => Response) {
  const seen: Seen[] = [];
  const transport: SidecarTransport = async ({ method, url, headers, body }) => {
    const request = {
      method,
      url,
      headers: { ...headers },
      body: body === undefined ? undefined : JSON.parse(body),
    };
    seen.push(request);
    const response = answer(request);
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  const gateway = createHttpGateway({ baseUrl: 'http://daprd', apiToken: 'dapr-token', transport });
  return { gateway, seen };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const schedulerError = (status: number, message: string) =>
  json(status, { errorCode: 'DAPR_SCHEDULER_SCHEDULE_JOB', message });

describe('the Jobs client', () => {
  it('schedules with the spec as the body, and overwrite only when asked', async () => {
    const { gateway, seen } = fakeDaprd(() => new Response(null, { status: 204 }));
    await gateway.scheduleJob('reminder-1', {
      dueTime: '2026-12-01T09:00:00Z',
      data: { a: 1 },
      failurePolicy: { constant: { interval: '10s', maxRetries: 3 } },
    });
    await gateway.scheduleJob('sweep', { schedule: '@every 1m', repeats: 5, ttl: '1h' }, { overwrite: true });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: 'http://daprd/v1.0/jobs/reminder-1',
        headers: { 'content-type': 'application/json', 'dapr-api-token': 'dapr-token' },
        body: {
          dueTime: '2026-12-01T09:00:00Z',
          data: { a: 1 },
          failurePolicy: { constant: { interval: '10s', maxRetries: 3 } },
        },
      },
      expect.objectContaining({
        url: 'http://daprd/v1.0/jobs/sweep',
        body: { schedule: '@every 1m', repeats: 5, ttl: '1h', overwrite: true },
      }),
    ]);
  });

  it('throws JobExistsError for an existing job, InvalidJobError for a spec the scheduler refuses', async () => {
    const exists = fakeDaprd(() =>
      schedulerError(
        409,
        "failed to schedule job due to: rpc error: code = AlreadyExists desc = job already exists: 'app||default||tasks||a'",
      ),
    );
    await expect(exists.gateway.scheduleJob('a', { dueTime: '1s' })).rejects.toBeInstanceOf(JobExistsError);
    const invalid = fakeDaprd(() =>
      schedulerError(
        500,
        'failed to schedule job due to: rpc error: code = Unknown desc = job failed validation: due time format not recognized',
      ),
    );
    await expect(invalid.gateway.scheduleJob('a', { dueTime: 'soon' })).rejects.toBeInstanceOf(
      InvalidJobError,
    );
    const down = fakeDaprd(() =>
      schedulerError(500, 'failed to schedule job due to: context deadline exceeded'),
    );
    const error = await down.gateway.scheduleJob('a', { dueTime: '1s' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaprError);
    expect(error).not.toBeInstanceOf(InvalidJobError);
  });

  it('gets a job with its data unwrapped, and undefined for a job that does not exist', async () => {
    const { gateway } = fakeDaprd((seen) =>
      seen.url.endsWith('/known')
        ? json(200, {
            name: 'known',
            dueTime: '2030-01-01T00:00:00Z',
            data: { '@type': 'type.googleapis.com/google.protobuf.Value', value: { a: 3 } },
            failurePolicy: { constant: { interval: '1s', maxRetries: 3 } },
          })
        : json(500, {
            errorCode: 'DAPR_SCHEDULER_GET_JOB',
            message: 'failed to get job due to: rpc error: code = NotFound desc = job not found: missing',
          }),
    );
    expect(await gateway.getJob('known')).toEqual({
      name: 'known',
      dueTime: '2030-01-01T00:00:00Z',
      data: { a: 3 },
      failurePolicy: { constant: { interval: '1s', maxRetries: 3 } },
    });
    expect(await gateway.getJob('missing')).toBeUndefined();
  });

  it('deletes with DELETE /v1.0/jobs/{name}', async () => {
    const { gateway, seen } = fakeDaprd(() => new Response(null, { status: 204 }));
    await gateway.deleteJob('reminder-1');
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: 'http://daprd/v1.0/jobs/reminder-1' });
  });
});

describe('the state client', () => {
  it('deletes with DELETE /v1.0/state/{store}/{key}, If-Match only with an etag; a 409 is EtagMismatchError', async () => {
    const { gateway, seen } = fakeDaprd((request) =>
      request.headers['if-match'] === '"7"'
        ? json(409, { errorCode: 'ERR_STATE_DELETE', message: 'possible etag mismatch' })
        : new Response(null, { status: 204 }),
    );
    await gateway.deleteState('statestore', 'greeting|1');
    await gateway.deleteState('statestore', 'greeting|1', { etag: '3' });
    expect(seen.map(({ method, url, headers }) => [method, url, headers['if-match']])).toEqual([
      ['DELETE', 'http://daprd/v1.0/state/statestore/greeting%7C1', undefined],
      ['DELETE', 'http://daprd/v1.0/state/statestore/greeting%7C1', '3'],
    ]);
    await expect(gateway.deleteState('statestore', 'greeting|1', { etag: '"7"' })).rejects.toBeInstanceOf(
      EtagMismatchError,
    );
  });
});

describe('invocation, bindings and CloudEvent publishing', () => {
  it("returns the callee's status and body instead of throwing", async () => {
    const { gateway, seen } = fakeDaprd(() => json(404, { title: 'Not Found', taskId: 't1' }));
    const response = await gateway.invokeMethod('tasks-api', '/tasks/t1', {
      headers: { authorization: 'Bearer x' },
    });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ title: 'Not Found', taskId: 't1' });
    expect(seen[0]).toMatchObject({
      method: 'GET',
      url: 'http://daprd/v1.0/invoke/tasks-api/method/tasks/t1',
      headers: { authorization: 'Bearer x', 'dapr-api-token': 'dapr-token' },
    });
  });

  it('invokes an output binding with data, operation and metadata', async () => {
    const { gateway, seen } = fakeDaprd(() => new Response(null, { status: 200 }));
    await gateway.invokeBinding('notifications', 'create', { a: 1 }, { fileName: 'a.json' });
    expect(seen[0]).toMatchObject({
      url: 'http://daprd/v1.0/bindings/notifications',
      body: { data: { a: 1 }, operation: 'create', metadata: { fileName: 'a.json' } },
    });
  });

  it('publishes a CloudEvent it builds itself, keeping the given id, keyed by its partition key', async () => {
    const { gateway, seen } = fakeDaprd(() => new Response(null, { status: 204 }));
    await gateway.publishCloudEvent(
      'pubsub',
      'task-events',
      { id: 'e1', type: 't', source: 's', extensions: { prevtime: 'p', id: 'not-this' }, data: { a: 1 } },
      { metadata: { partitionKey: 'task-1' } },
    );
    expect(seen[0]).toMatchObject({
      url: 'http://daprd/v1.0/publish/pubsub/task-events?metadata.partitionKey=task-1',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: {
        specversion: '1.0',
        datacontenttype: 'application/json',
        id: 'e1',
        type: 't',
        source: 's',
        prevtime: 'p',
        data: { a: 1 },
      },
    });
  });
});

/**
 * Each way a connection to daprd can fail, provoked on a real loopback socket
 * (undici's errors differ by when the connection breaks): all of them are
 * SidecarUnreachableError, never an untyped TypeError.
 */
describe('a sidecar that does not answer', () => {
  type Misbehave = (request: IncomingMessage, socket: Socket) => void;
  let server: Server | undefined;
  const sockets = new Set<Socket>();

  async function daprdThat(misbehave: Misbehave) {
    server = createServer((request) => misbehave(request, request.socket));
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return createHttpGateway({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 });
  }

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    const closing = server;
    server = undefined;
    if (closing) await new Promise((resolve) => closing.close(resolve));
  });

  const kinds: Array<[string, Misbehave]> = [
    ['closes the connection before answering', (_, socket) => socket.destroy()],
    [
      'cuts the connection in the middle of the body',
      (_, socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"title":'),
    ],
    ['answers something that is not HTTP', (_, socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n')],
    ['never answers (past the timeout)', () => {}],
    [
      'sends the headers, then stalls in the body (past the timeout)',
      (_, socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"ti'),
    ],
  ];

  it.each(kinds)('%s: SidecarUnreachableError', async (_, misbehave) => {
    const gateway = await daprdThat(misbehave);
    const error = await gateway.getState('statestore', 'task|1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SidecarUnreachableError);
    expect(isSidecarFailure(error)).toBe(true);
  });

  it('refuses the connection (nothing listens): SidecarUnreachableError', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const gateway = createHttpGateway({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 });
    const error = await gateway.publishEvent('pubsub', 't', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SidecarUnreachableError);
  });

  it('answers 200 with a body that is not JSON: a DaprError, also a sidecar failure', async () => {
    const gateway = await daprdThat((_, socket) =>
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello'),
    );
    const error = await gateway.getState('statestore', 'task|1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaprError);
    expect(isSidecarFailure(error)).toBe(true);
  });
});
