import { serve as serveNode } from '@hono/node-server';
import type { AppDefinition } from './app.ts';
import { type Env, loadRuntimeConfig } from './config.ts';
import { createHttpGateway } from './dapr-http.ts';
import type { Deps, FunctionDefinition, RuntimeDeps } from './function.ts';
import { createLogger } from './log.ts';
import { createRouter } from './router.ts';
import { watchSecret } from './secret.ts';
import { zeroCounters } from './telemetry.ts';
import { startTelemetry } from './telemetry-sdk.ts';
import { uuidv7 } from './uuid.ts';

export interface ServeOptions<C extends object> {
  /** What runs: an app name from apps.ts or a single function's name. */
  name: string;
  /** The app the functions belong to: its context factory and what the runtime asks of it. */
  app: AppDefinition<C>;
  functions: readonly FunctionDefinition<C>[];
  env?: Env;
}

/**
 * Runs a list of functions as one HTTP server for daprd: the process a
 * Kubernetes Deployment (or `npm start`) runs. Stops cleanly on SIGTERM/SIGINT.
 */
export function serve<C extends object>({
  name,
  app: definition,
  functions,
  env = process.env,
}: ServeOptions<C>) {
  const config = loadRuntimeConfig(env, definition.defaults);
  // Before anything serves: every invocation's span needs the SDK (OTEL_* variables); the service is the app-id, as daprd names it.
  const telemetry = startTelemetry(config.APP_ID, env, {
    metrics: { host: config.HOST, port: config.METRICS_PORT },
  });
  zeroCounters(functions);
  definition.zeroCounters?.(functions);
  const log = createLogger({ app: config.APP_ID, unit: name });
  const dapr = createHttpGateway({
    baseUrl: `http://${config.DAPR_HOST}:${config.DAPR_HTTP_PORT}`,
    apiToken: config.DAPR_API_TOKEN,
    timeoutMs: config.DAPR_TIMEOUT_MS,
  });
  // The API token guards the HTTP functions and lets job and binding functions call the app's HTTP API.
  const needsToken = functions.some((fn) => fn.trigger.kind !== 'topic');
  const token = needsToken ? watchSecret(dapr, config.SECRET_STORE, config.API_TOKEN_SECRET, log) : undefined;
  const apiToken = () => token?.current();
  const runtime: RuntimeDeps = { config, dapr, log, now: () => new Date(), newId: () => uuidv7() };
  const context = definition.context({ ...runtime, apiToken, env });
  const deps: Deps<C> = { ...context, ...runtime };

  const app = createRouter({
    app: definition,
    deps,
    functions,
    apiToken,
    readiness: async () => ({
      sidecar: await dapr.isOutboundReady(),
      ...(token ? { apiToken: token.current() !== undefined } : {}),
    }),
  });

  const server = serveNode({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    log.info('listening', {
      address: `http://${info.address}:${info.port}`,
      functions: functions.map((f) => f.name),
    });
  });

  const stop = (signal: string) => {
    log.info('stopping', { signal });
    token?.stop();
    server.close(() => {
      // The app's work after its answers (events being published) and the spans still in the batch go out before the process ends.
      void Promise.resolve(definition.settled?.(context))
        .then(() => telemetry.shutdown())
        .finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return server;
}
