import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyLimit } from './body-limit.ts';
import { Problem } from './problem.ts';

/** An app on a real @hono/node-server: POST /echo answers the JSON it read, behind a 64-byte limit. */
const seen: unknown[] = [];
const app = new Hono();
app.use(bodyLimit(64));
app.post('/echo', async (c) => {
  const body = await c.req.json();
  seen.push(body);
  return c.json(body);
});
app.onError((error, c) => (error instanceof Problem ? error.toResponse(c.req.path) : c.text('error', 500)));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
beforeAll(
  () => new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve))),
);
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** POSTs `chunks`: with their Content-Length, or chunked (no length) when `chunked`. */
function post(chunks: string[], chunked: boolean) {
  const { port } = server.address() as AddressInfo;
  const length = Buffer.byteLength(chunks.join(''));
  return new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/echo',
        headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': length }) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }),
        );
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const small = JSON.stringify({ n: 1, text: 'fits' });
const large = JSON.stringify({ n: 2, text: 'x'.repeat(100) });

describe('bodyLimit on @hono/node-server', () => {
  it.each([false, true])('passes a body within the limit (chunked: %s)', async (chunked) => {
    const before = seen.length;
    const answer = await post([small.slice(0, 5), small.slice(5)], chunked);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ n: 1, text: 'fits' });
    expect(seen.length).toBe(before + 1);
  });

  it.each([false, true])(
    'refuses a larger body with a 413 problem, unread (chunked: %s)',
    async (chunked) => {
      const before = seen.length;
      const answer = await post([large.slice(0, 40), large.slice(40)], chunked);
      expect(answer.status).toBe(413);
      expect(answer.type).toBe('application/problem+json');
      expect(JSON.parse(answer.body)).toMatchObject({ status: 413, title: 'Content Too Large' });
      expect(seen.length).toBe(before);
    },
  );

  it('judges a body by its Content-Length alone', async () => {
    const answer = await post([small.padEnd(64)], false);
    expect(answer.status).toBe(200);
    expect((await post([small.padEnd(65)], false)).status).toBe(413);
  });
});
