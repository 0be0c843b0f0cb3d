import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

/** A server listening before the app is built; serve() hands it the app's listener. */
export interface EarlyServer {
  server: Server;
  /** Sends every request from now on (and those waiting) to `listener`. */
  attach(listener: Listener): void;
}

/** PORT as loadConfig reads it (default 8080); undefined if it is not a valid port, for loadConfig to report. */
function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return 8080;
  if (!/^\s*\d+\s*$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Listens on PORT/HOST (loadConfig's defaults) as the first thing a bundle
 * does, before the rest of it is evaluated and started (telemetry, the
 * router, the functions' schemas). Until serve() attaches the app:
 * GET/HEAD /healthz (liveness) answers 200 as the router does, /readyz
 * answers 503 (not started), and every other request waits, unanswered, and
 * then goes to the app, as it would have waited in the listen backlog before.
 * Nothing here needs the app's config; if PORT is not a valid port it does
 * not listen, and loadConfig reports the error as before.
 */
export function listenEarly(env: Record<string, string | undefined>): EarlyServer | undefined {
  const port = portOf(env.PORT);
  if (port === undefined) return undefined;
  let app: Listener | undefined;
  let waiting: Array<[IncomingMessage, ServerResponse]> = [];
  const server = createServer((request, response) => {
    if (app) return app(request, response);
    const path = request.url?.split('?')[0];
    const method = request.method ?? 'GET';
    if ((path === '/healthz' || path === '/readyz') && (method === 'GET' || method === 'HEAD')) {
      const ready = path === '/healthz';
      const body = ready ? '{"status":"ok"}' : '{"status":"not ready","checks":{"started":false}}';
      response.writeHead(ready ? 200 : 503, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      response.end(method === 'HEAD' ? undefined : body);
      return;
    }
    waiting.push([request, response]);
  });
  server.listen(port, env.HOST ?? '127.0.0.1');
  return {
    server,
    attach(listener) {
      app = listener;
      const held = waiting;
      waiting = [];
      for (const [request, response] of held) listener(request, response);
    },
  };
}

/**
 * Lets the event loop run between the steps of a start (a few turns: a
 * connection accepted, its request read, its answer written), so liveness is
 * answered while the app is still being built.
 */
export async function yieldToRequests(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
