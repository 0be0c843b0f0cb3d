/**
 * npm start: provisions the Dapr binaries if needed, then runs the scheduler,
 * daprd and every function as one app on the embedded profile until Ctrl-C.
 * With --observability, Jaeger v2 runs beside them and receives the app's and
 * daprd's spans, and Prometheus (127.0.0.1:9091) scrapes both's metrics.
 *   npm start -- [--profile embedded] [--app all|tasks-api|<function>] [--observability]
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  defaultJaegerPorts,
  type Jaeger,
  type Prometheus,
  startJaeger,
  startPrometheus,
} from './lib/observability.ts';
import { Scope } from './lib/processes.ts';
import { defaultPorts, type Profile, profiles, projectRoot, startStack } from './lib/stack.ts';

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'embedded' },
    app: { type: 'string', default: 'all' },
    observability: { type: 'boolean', default: false },
  },
});
if (!profiles.includes(values.profile as Profile)) {
  console.error(`Unknown profile "${values.profile}". Profiles: ${profiles.join(', ')}`);
  process.exit(2);
}
const port = Number(process.env.PORT ?? defaultPorts.app);
const ports = { ...defaultPorts, app: port };

const scope = new Scope();
let jaeger: Jaeger | undefined;
if (values.observability) {
  const logDir = join(projectRoot, '.data', 'logs');
  await mkdir(logDir, { recursive: true });
  jaeger = await startJaeger(scope, defaultJaegerPorts, logDir);
}
const stack = await startStack({
  scope,
  profile: values.profile as Profile,
  workDir: projectRoot,
  ports,
  app: [process.execPath, 'main.ts', values.app],
  appOutput: 'inherit',
  ...(jaeger ? { otlpHttp: `127.0.0.1:${jaeger.ports.otlpHttp}` } : {}),
}).catch(async (error) => {
  await scope.stop();
  throw error;
});
let prometheus: Prometheus | undefined;
if (values.observability) {
  prometheus = await startPrometheus({
    scope,
    port: 9091,
    targets: { app: ports.appMetrics, daprd: ports.daprMetrics },
    appId: stack.appId,
    dataDir: stack.dataDir,
    logDir: stack.logDir,
  });
}

console.log(`
Tasks on Dapr is running (profile ${values.profile}, app ${values.app}).
  Task API      ${stack.url}   (docs: ${stack.url}/docs)
  API token     "tasks-api-token" in ${stack.secretsFile}
                curl -H "Authorization: Bearer $(node -p "require('./.data/secrets.json')['tasks-api-token']")" ${stack.url}/tasks
  daprd         HTTP ${ports.daprHttp}, gRPC ${ports.daprGrpc}, metrics ${ports.daprMetrics}
  app metrics   http://127.0.0.1:${ports.appMetrics}/metrics   (Prometheus format)
  scheduler     127.0.0.1:${ports.scheduler}   (jobs in ${join(stack.dataDir, 'scheduler')})
  reminders     one JSON file each in ${join(stack.dataDir, 'notifications')}
  logs          ${stack.logDir}${jaeger ? `\n  Jaeger        ${jaeger.url}   (traces of the app and daprd; OTLP/HTTP on ${jaeger.otlpHttp})` : ''}${prometheus ? `\n  Prometheus    ${prometheus.url}   (scrapes the app and daprd)` : ''}
Press Ctrl-C to stop.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the app, daprd and the scheduler…');
    await scope.stop();
    console.log('Stopped.');
    process.exit(0);
  });
}
