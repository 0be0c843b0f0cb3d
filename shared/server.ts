import { serve as serveNode } from '@hono/node-server';
import { loadConfig } from './config.ts';
import { createHttpGateway } from './dapr.ts';
import type { Deps, FunctionDefinition } from './function.ts';
import { createLogger } from './log.ts';
import { createRemindersClient } from './reminders.ts';
import { createRouter } from './router.ts';
import { watchSecret } from './secret.ts';
import { TaskStore } from './task-store.ts';
import { createTasksApi } from './tasks-client.ts';
import { zeroCounters } from './telemetry.ts';
import { startTelemetry } from './telemetry-sdk.ts';
import { uuidv7 } from './uuid.ts';

export interface ServeOptions {
  /** What runs: an app name from apps.ts or a single function's name. */
  name: string;
  functions: readonly FunctionDefinition[];
  env?: Record<string, string | undefined>;
}

/**
 * Runs a list of functions as one HTTP server for daprd: the process a
 * Kubernetes Deployment (or `npm start`) runs. Stops cleanly on SIGTERM/SIGINT.
 */
export function serve({ name, functions, env = process.env }: ServeOptions) {
  const config = loadConfig(env);
  // Before anything serves: every invocation's span needs the SDK (OTEL_* variables); the service is the app-id, as daprd names it.
  const telemetry = startTelemetry(config.APP_ID, env, {
    metrics: { host: config.HOST, port: config.METRICS_PORT },
  });
  zeroCounters(functions);
  const log = createLogger({ app: config.APP_ID, unit: name });
  const dapr = createHttpGateway({
    baseUrl: `http://${config.DAPR_HOST}:${config.DAPR_HTTP_PORT}`,
    apiToken: config.DAPR_API_TOKEN,
    timeoutMs: config.DAPR_TIMEOUT_MS,
  });
  // The API token guards the HTTP functions and lets job and binding functions call the Task API.
  const needsToken = functions.some((fn) => fn.trigger.kind !== 'topic');
  const apiToken = needsToken
    ? watchSecret(dapr, config.SECRET_STORE, config.API_TOKEN_SECRET, log)
    : undefined;
  const deps: Deps = {
    config,
    dapr,
    tasks: TaskStore.fromConfig(dapr, config, log),
    tasksApi: createTasksApi(dapr, config.TASKS_API_APP_ID ?? config.APP_ID, () => apiToken?.current()),
    reminders: createRemindersClient(dapr, config.REMINDERS_APP_ID ?? config.APP_ID),
    log,
    now: () => new Date(),
    newId: () => uuidv7(),
  };

  const app = createRouter({
    deps,
    functions,
    apiToken: () => apiToken?.current(),
    readiness: async () => ({
      sidecar: await dapr.isOutboundReady(),
      ...(apiToken ? { apiToken: apiToken.current() !== undefined } : {}),
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
    apiToken?.stop();
    server.close(() => {
      // Events being published and spans still in the batch go out before the process ends.
      void deps.tasks
        .settled()
        .then(() => telemetry.shutdown())
        .finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return server;
}
