/**
 * The subscriber of the event-delivery benchmark (scripts/bench/events.ts),
 * in two builds with one handler:
 *   node scripts/bench/events-app.ts trigger    our topic trigger (defineFunction + serve)
 *   node scripts/bench/events-app.ts dapr-sdk   @dapr/dapr's DaprServer (server.pubsub.subscribe[Bulk])
 * The handler is the same in both: note when the event arrived, save one
 * state key through daprd's state API, note when the save was answered. Both
 * subscribe BENCH_TOPIC on PUBSUB (default `pubsub`), bulk when PUBSUB_BULK
 * is true (100 events or 40 ms, the project's own bulk settings), and keep
 * what they handled in memory for the benchmark to read from
 * `GET http://127.0.0.1:$BENCH_RESULTS_PORT/results?phase=<phase>[&count]`, a port of its own
 * that neither build's server knows about.
 * Environment: what startStack gives every app (PORT, DAPR_HTTP_PORT, APP_ID,
 * APP_API_TOKEN), plus BENCH_TOPIC and BENCH_RESULTS_PORT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { DaprServer } from '@dapr/dapr';
import { z } from 'zod';
import { defineFunction } from '../../shared/function.ts';
import { serve } from '../../shared/server.ts';
import { nowMs } from '../lib/wall-clock.ts';

/** What the benchmark publishes in each event's `data`. */
export const BenchEvent = z.object({ phase: z.string(), seq: z.number().int(), sentAt: z.number() });
export type BenchEvent = z.infer<typeof BenchEvent>;

/** One handled event: its seq, when it was published, arrived and had its state saved (epoch ms, fractional). */
export type Handled = [seq: number, sentAt: number, receivedAt: number, doneAt: number];

/** The bulk settings of both builds: those of the project's topic trigger (shared/triggers.ts). */
export const BULK = { maxMessagesCount: 100, maxAwaitDurationMs: 40 } as const;

const env = process.env;
const required = (name: string) => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

function startRecorder() {
  const phases = new Map<string, Handled[]>();
  const results = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/results') {
      res.writeHead(404).end();
      return;
    }
    const handled = phases.get(url.searchParams.get('phase') ?? '') ?? [];
    res.writeHead(200, { 'content-type': 'application/json' });
    // `?count` while the benchmark waits: the count alone, so that waiting costs the app little.
    res.end(JSON.stringify(url.searchParams.has('count') ? { count: handled.length } : handled));
  });
  results.listen(Number(required('BENCH_RESULTS_PORT')), '127.0.0.1');
  const stateUrl = `http://127.0.0.1:${required('DAPR_HTTP_PORT')}/v1.0/state/${env.STATE_STORE ?? 'statestore'}`;
  const appId = required('APP_ID');

  /** The handler both builds run. A failed save throws: the build's own RETRY. */
  return async function handle(event: BenchEvent): Promise<void> {
    const receivedAt = nowMs();
    const response = await fetch(stateUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: `bench|${appId}|${event.phase}|${event.seq}`, value: event }]),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`state save answered ${response.status}`);
    const handled = phases.get(event.phase) ?? [];
    if (handled.length === 0) phases.set(event.phase, handled);
    handled.push([event.seq, event.sentAt, receivedAt, nowMs()]);
  };
}

async function runTrigger() {
  const handle = startRecorder();
  const onBenchEvent = defineFunction({
    name: 'onBenchEvent',
    trigger: { kind: 'topic', topic: required('BENCH_TOPIC'), data: BenchEvent },
    handler: async (event) => {
      await handle(event.data);
      return 'SUCCESS';
    },
  });
  // An app with no context of its own: its function sees the runtime's parts only.
  const app = { title: 'bench events', version: '0', description: 'The bench trigger', context: () => ({}) };
  serve({ name: 'bench-events', app, functions: [onBenchEvent] });
}

async function runDaprSdk() {
  const handle = startRecorder();
  const bulk = env.PUBSUB_BULK === 'true';
  const server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: required('PORT'),
    clientOptions: { daprHost: '127.0.0.1', daprPort: required('DAPR_HTTP_PORT') },
  });
  // The SDK's express app: the health routes startStack and daprd probe, and a
  // listen on loopback only (express's listen(port) binds every interface).
  const app = (server.getDaprClient() as unknown as { getServer(): SdkExpress }).getServer();
  app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => res.json({ status: 'ready' }));
  app.listen = (port: number) => createServer(app).listen(port, '127.0.0.1');
  const pubsub = env.PUBSUB ?? 'pubsub';
  const topic = required('BENCH_TOPIC');
  const callback = async (data: unknown) => {
    await handle(BenchEvent.parse(data));
    return 'SUCCESS';
  };
  if (bulk) await server.pubsub.subscribeBulk(pubsub, topic, callback, { ...BULK });
  else await server.pubsub.subscribe(pubsub, topic, callback);
  await server.start();
}

/** The few members of the SDK's express app used here (the project has no express types). */
interface SdkExpress {
  get(path: string, handler: (req: unknown, res: { json(body: unknown): void }) => void): void;
  listen: (port: number) => unknown;
  (req: IncomingMessage, res: ServerResponse): void;
}

const variant = process.argv[2];
if (import.meta.main) {
  if (variant === 'trigger') await runTrigger();
  else if (variant === 'dapr-sdk') await runDaprSdk();
  else throw new Error(`events-app: say trigger or dapr-sdk, not ${variant}`);
}
