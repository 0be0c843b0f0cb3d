/**
 * npm start: provisions the Dapr binaries if needed, then runs the scheduler,
 * daprd and every function as one app on the embedded profile until Ctrl-C.
 * With --observability, Jaeger v2 runs beside them and receives the app's and
 * daprd's spans, and Prometheus (127.0.0.1:9091) scrapes both's metrics.
 *   npm start -- [--profile embedded] [--app all|tasks-api|<function>] [--observability]
 *                [--work-dir <dir>] [--port <name>=<port>]...
 *
 * --work-dir <dir>: where daprd and the scheduler run; the state, the secrets
 *   and the logs go to <dir>/.data (default: the project's .data).
 * --port <name>=<port>, repeatable: moves one port from its default, to run a
 *   second stack beside a first: app (8080; also PORT=<port>), appMetrics
 *   (9464), daprHttp (3500), daprGrpc (50001), daprInternalGrpc (50002),
 *   daprMetrics (9090), scheduler (50006), schedulerHealth (50080),
 *   schedulerMetrics (50090), etcdClient (52379), etcdPeer (52380),
 *   prometheus (9091). Jaeger keeps its own (4317, 4318, 16686…).
 *
 * Stopping. Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed) stop
 * everything it started, newest first, each with SIGTERM and SIGKILL after 8 s,
 * and it exits 0, also when the signal comes while starting; a second signal
 * meanwhile SIGKILLs what is left at once. If any part fails to start, it
 * stops what had started, then exits 1. Its children run in sessions of their own, so
 * that Ctrl-C reaches only this process, which stops them in order: a SIGKILL
 * of this process, which nothing can catch, leaves them running (the banner
 * lists their pids).
 */
import { mkdir } from 'node:fs/promises';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultJaegerPorts, startJaeger, startPrometheus } from './lib/observability.ts';
import { runningChildren, Scope } from './lib/processes.ts';
import { defaultPorts, type Ports, type Profile, profiles, projectRoot, startStack } from './lib/stack.ts';

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'embedded' },
    app: { type: 'string', default: 'all' },
    observability: { type: 'boolean', default: false },
    'work-dir': { type: 'string', default: projectRoot },
    port: { type: 'string', multiple: true, default: [] },
  },
});
const usage = (message: string): never => {
  console.error(message);
  process.exit(2);
};
if (!profiles.includes(values.profile as Profile))
  usage(`Unknown profile "${values.profile}". Profiles: ${profiles.join(', ')}`);
const ports: Ports & { prometheus: number } = {
  ...defaultPorts,
  app: Number(process.env.PORT ?? defaultPorts.app),
  prometheus: 9091,
};
for (const setting of values.port) {
  const [, name = '', port] = /^(\w+)=(\d+)$/.exec(setting) ?? [];
  if (!Object.hasOwn(ports, name))
    usage(`--port ${setting}: not <name>=<port> with a name of ${Object.keys(ports).join(', ')}`);
  ports[name as keyof typeof ports] = Number(port);
}
const workDir = resolve(values['work-dir']);

// Everything started below joins this scope; stopping it stops all of it, newest first.
const scope = new Scope();
let stopped: Promise<never> | undefined;
const stop = (code: number, why: string): Promise<never> => {
  stopped ??= (async () => {
    console.log(`\n${why}: stopping everything it started…`);
    await scope.stop().catch((error: Error) => console.error(error.message));
    console.log('Stopped.');
    process.exit(code);
  })();
  return stopped;
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // processes.ts SIGKILLs every child still running (its whole process group) as this process exits.
    if (stopped) process.exit(128 + constants.signals[signal]);
    void stop(0, signal);
  });
}
// After SIGHUP the terminal is gone and writing to it fails (EIO): that must not end the stopping.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

const running = await (async () => {
  let jaeger: Awaited<ReturnType<typeof startJaeger>> | undefined;
  if (values.observability) {
    const logDir = join(workDir, '.data', 'logs');
    await mkdir(logDir, { recursive: true });
    jaeger = await startJaeger(scope, defaultJaegerPorts, logDir);
  }
  const stack = await startStack({
    scope,
    profile: values.profile as Profile,
    workDir,
    ports,
    app: [process.execPath, 'main.ts', values.app],
    appOutput: 'inherit',
    ...(jaeger ? { otlpHttp: `127.0.0.1:${jaeger.ports.otlpHttp}` } : {}),
  });
  const prometheus = values.observability
    ? await startPrometheus({
        scope,
        port: ports.prometheus,
        targets: { app: ports.appMetrics, daprd: ports.daprMetrics },
        appId: stack.appId,
        dataDir: stack.dataDir,
        logDir: stack.logDir,
      })
    : undefined;
  return { jaeger, stack, prometheus };
})().catch(async (error: Error) => {
  if (!stopped) console.error(`\nnpm start failed: ${error.message}`);
  return stop(1, 'Start failed');
});
const { jaeger, stack, prometheus } = running;
const pids = runningChildren()
  .map(({ name, pid }) => `${name} ${pid}`)
  .join(', ');

console.log(`
Tasks on Dapr is running (profile ${values.profile}, app ${values.app}).
  Task API      ${stack.url}   (docs: ${stack.url}/docs)
  API token     "tasks-api-token" in ${stack.secretsFile}
                curl -H "Authorization: Bearer $(node -p "require('${stack.secretsFile}')['tasks-api-token']")" ${stack.url}/tasks
  daprd         HTTP ${ports.daprHttp}, gRPC ${ports.daprGrpc}, metrics ${ports.daprMetrics}
  app metrics   http://127.0.0.1:${ports.appMetrics}/metrics   (Prometheus format)
  scheduler     127.0.0.1:${ports.scheduler}   (jobs in ${join(stack.dataDir, 'scheduler')})
  reminders     one JSON file each in ${join(stack.dataDir, 'notifications')}
  logs          ${stack.logDir}${jaeger ? `\n  Jaeger        ${jaeger.url}   (traces of the app and daprd; OTLP/HTTP on ${jaeger.otlpHttp})` : ''}${prometheus ? `\n  Prometheus    ${prometheus.url}   (scrapes the app and daprd)` : ''}
  processes     ${pids} (pid ${process.pid} stops them all)
Press Ctrl-C to stop.
`);
