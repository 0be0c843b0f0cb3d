/**
 * The bare-Hono floor of the routes benchmark (scripts/bench/routes.ts): the
 * same four routes on plain Hono on @hono/node-server, each handler making the
 * one daprd call the route cannot do without, and nothing else: no
 * validation, auth, admission control, telemetry, logging, outbox or index.
 *   POST  /tasks        one state transaction (an upsert of a new `task|<id>` record)
 *   GET   /tasks/:id    one state get
 *   GET   /tasks        one bulk get of the first `limit` ids this process created
 *   PATCH /tasks/:id    one state transaction (an upsert of the record, unread)
 * Started by the benchmark with the same node binary as the app:
 *   PORT=... DAPR_HTTP_PORT=... STATE_STORE=statestore node scripts/bench/bare-hono.ts
 */
import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { taskRecord, upsertTransaction } from './record.ts';

const port = Number(process.env.PORT ?? 8090);
const dapr = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT ?? 3500}`;
const store = encodeURIComponent(process.env.STATE_STORE ?? 'statestore');
/** Ids of tasks this process created, oldest first: what a listing reads. */
const created: string[] = [];

async function transaction(key: string, value: unknown): Promise<Response> {
  return fetch(`${dapr}/v1.0/state/${store}/transaction`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(upsertTransaction(key, value)),
  });
}

const app = new Hono();
app.get('/healthz', (c) => c.text('ok'));

app.post('/tasks', async (c) => {
  const id = randomUUID();
  const { task, value } = taskRecord(id, 1, await c.req.json());
  const saved = await transaction(`task|${id}`, value);
  await saved.body?.cancel();
  if (!saved.ok) return c.json({ status: saved.status }, 503);
  created.push(id);
  return c.json(task, 201);
});

app.get('/tasks/:id', async (c) => {
  const got = await fetch(`${dapr}/v1.0/state/${store}/${encodeURIComponent(`task|${c.req.param('id')}`)}`);
  if (got.status === 204) return c.json({ status: 404 }, 404);
  if (!got.ok) {
    await got.body?.cancel();
    return c.json({ status: got.status }, 503);
  }
  return c.json(((await got.json()) as { task: unknown }).task, 200);
});

app.get('/tasks', async (c) => {
  const limit = Number(c.req.query('limit') ?? 20);
  const keys = created.slice(0, limit).map((id) => `task|${id}`);
  const got = await fetch(`${dapr}/v1.0/state/${store}/bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keys, parallelism: 16 }),
  });
  if (!got.ok) {
    await got.body?.cancel();
    return c.json({ status: got.status }, 503);
  }
  const items = (await got.json()) as Array<{ data?: { task: unknown } }>;
  return c.json(
    { items: items.flatMap((item) => (item.data ? [item.data.task] : [])), nextCursor: null },
    200,
  );
});

app.patch('/tasks/:id', async (c) => {
  const id = c.req.param('id');
  const { task, value } = taskRecord(id, 2, await c.req.json());
  const saved = await transaction(`task|${id}`, value);
  await saved.body?.cancel();
  if (!saved.ok) return c.json({ status: saved.status }, 503);
  return c.json(task, 200);
});

serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
// Nothing to flush: a stop ends it at once, open keep-alive connections and all.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
