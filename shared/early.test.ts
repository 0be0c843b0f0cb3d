import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type EarlyServer, listenEarly, yieldToRequests } from './early.ts';

describe('listenEarly (the port open while the app starts)', () => {
  let early: EarlyServer | undefined;
  afterEach(async () => {
    await new Promise((resolve) => early?.server.close(resolve) ?? resolve(undefined));
    early = undefined;
  });

  it('answers liveness at once, readiness 503, and holds everything else for the app', async () => {
    early = listenEarly({ PORT: String(40000 + Math.floor(Math.random() * 20000)), HOST: '127.0.0.1' });
    if (!early) throw new Error('did not listen');
    const server = early.server;
    await new Promise((resolve) =>
      server.listening ? resolve(undefined) : server.once('listening', resolve),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const live = await fetch(`${url}/healthz`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toBe('application/json');
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready', checks: { started: false } });

    let answered = false;
    const held = fetch(`${url}/tasks/1`).then(async (response) => {
      answered = true;
      return [response.status, await response.text()];
    });
    await yieldToRequests(20);
    expect(answered).toBe(false);
    early.attach((request, response) => {
      response.writeHead(201);
      response.end(`app: ${request.url}`);
    });
    expect(await held).toEqual([201, 'app: /tasks/1']);
    // From now on the app answers everything, liveness too.
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('app: /healthz');
  });

  it('does not listen on a PORT loadConfig would refuse (loadConfig reports it)', () => {
    for (const PORT of ['abc', '0', '70000', ''])
      expect(listenEarly({ PORT, HOST: '127.0.0.1' })).toBeUndefined();
  });
});
