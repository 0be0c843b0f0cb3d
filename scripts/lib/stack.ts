import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DaprBinaries, provisionDapr } from './dapr-runtime.ts';
import { defaultInfraPorts, type InfraPorts, type Server, startInfra } from './infra.ts';
import { freePort, httpOk, type Restartable, Scope, startProcess, untilReady, waitFor } from './processes.ts';

export const projectRoot = resolve(import.meta.dirname, '../..');

/**
 * A profile is a set of component folders (components/<folder>) and the
 * servers they need; nothing else differs between profiles, the code least of all.
 */
export const profileSpecs = {
  embedded: { components: ['common', 'embedded'], servers: [], appEnv: {} },
  'redis-kafka': {
    components: ['common', 'redis', 'kafka'],
    servers: ['redis', 'kafka'],
    appEnv: { PUBSUB_BULK: 'true' },
  },
  'postgres-kafka': {
    components: ['common', 'postgres', 'kafka'],
    servers: ['postgres', 'kafka'],
    appEnv: { PUBSUB_BULK: 'true' },
  },
} as const satisfies Record<
  string,
  { components: string[]; servers: Server[]; appEnv: Record<string, string> }
>;
export type Profile = keyof typeof profileSpecs;
export const profiles = Object.keys(profileSpecs) as Profile[];

/** The component folders of a profile, as daprd's --resources-path arguments. */
export const profileResources = (profile: Profile) =>
  profileSpecs[profile].components.map((folder) => join(projectRoot, 'components', folder));

export interface Ports {
  app: number;
  /** The app's Prometheus metrics (METRICS_PORT). */
  appMetrics: number;
  daprHttp: number;
  daprGrpc: number;
  daprInternalGrpc: number;
  daprMetrics: number;
  scheduler: number;
  schedulerHealth: number;
  schedulerMetrics: number;
  etcdClient: number;
  etcdPeer: number;
}

/** The ports of `npm start`: daprd's usual ones (HTTP 3500, gRPC 50001, scheduler 50006). */
export const defaultPorts: Ports = {
  app: 8080,
  appMetrics: 9464,
  daprHttp: 3500,
  daprGrpc: 50001,
  daprInternalGrpc: 50002,
  daprMetrics: 9090,
  scheduler: 50006,
  schedulerHealth: 50080,
  schedulerMetrics: 50090,
  etcdClient: 52379,
  etcdPeer: 52380,
};

export async function freePorts(): Promise<Ports> {
  const ports = {} as Ports;
  for (const key of Object.keys(defaultPorts) as Array<keyof Ports>) ports[key] = await freePort();
  return ports;
}

export interface StackOptions {
  /** What owns the stack: its processes join a scope of the stack's own in it, which Stack.stop() stops. */
  scope: Scope;
  profile: Profile;
  /** daprd's and the scheduler's working directory; state lives in `<workDir>/.data`. */
  workDir: string;
  ports: Ports;
  /** The app's command line, e.g. [node, main.ts, all]. */
  app: string[];
  appId?: string;
  /** The component folders daprd loads; default the profile's (profileResources). */
  resourcesPaths?: string[];
  /** Where the profile's servers listen; default defaultInfraPorts (the ports its components name). */
  infraPorts?: InfraPorts;
  /** Start the profile's servers (default) or use ones already running (a second app of one system). */
  servers?: boolean;
  /** Kafka topics the profile's broker creates before anything runs, with their partition counts (deploy/README.md's). */
  kafkaTopics?: Record<string, number>;
  /** Start a scheduler (default), or use the one already listening on `ports.scheduler`. */
  scheduler?: boolean;
  /** Extra environment of the app (e.g. PUBSUB_BULK=true). */
  appEnv?: Record<string, string>;
  /**
   * Where the app and daprd send spans over OTLP/HTTP (`127.0.0.1:<port>`, a
   * Jaeger's). Default: the app sends none, daprd tries components/config.yaml's
   * 127.0.0.1:4318 (where `npm start -- --observability` runs Jaeger).
   */
  otlpHttp?: string;
  /** App output: `inherit` shows it in this terminal; otherwise it goes to .data/logs/app.log. */
  appOutput?: 'inherit' | 'file';
  log?: (line: string) => void;
}

/** The processes a stack may run: its own three, and the profile's servers. */
export type ProcessName = 'daprd' | 'app' | 'scheduler' | Server;

export interface Stack {
  binaries: DaprBinaries;
  ports: Ports;
  /** The app's id (daprd's --app-id, the app's APP_ID and service name). */
  appId: string;
  apiToken: string;
  appToken: string;
  secretsFile: string;
  /** `<workDir>/.data`: state, scheduler data, notifications, logs. */
  dataDir: string;
  logDir: string;
  url: string;
  /** The Kafka bootstrap address on the Kafka profiles. */
  kafka?: string;
  /** The stack's own scheduler, to stop and start again on its own (a test of an outage). */
  scheduler?: { stop(): Promise<void>; start(): Promise<void> };
  /**
   * Every process this stack started (daprd, the app, its scheduler, the
   * profile's servers), to kill, pause or restart one alone; start() brings it
   * back as it was, and resolves once it answers its own health check.
   */
  processes: Partial<Record<ProcessName, Restartable>>;
  stop(): Promise<void>;
}

/**
 * Creates `.data/secrets.json` with a random Task API token if it is absent
 * (the embedded secret store reads it); returns the token it holds.
 */
export async function ensureSecretsFile(file: string): Promise<string> {
  if (!existsSync(file)) {
    await writeFile(
      file,
      `${JSON.stringify({ 'tasks-api-token': randomBytes(24).toString('base64url') }, null, 2)}\n`,
      {
        mode: 0o600,
      },
    );
  }
  const token = JSON.parse(await readFile(file, 'utf8'))['tasks-api-token'];
  if (typeof token !== 'string' || token.length === 0) throw new Error(`${file} has no "tasks-api-token"`);
  return token;
}

/**
 * Starts the profile's servers, the scheduler, the app and daprd (in that
 * order: daprd reads the app's subscriptions once the app's port is open) and
 * waits until the app is ready, which means daprd is too. `stop()` ends them
 * all, newest first; so does a step that fails, before its error is thrown.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { profile, workDir, ports, log = console.log } = options;
  const scope = new Scope(options.scope);
  const appId = options.appId ?? 'tasks';
  const binaries = await provisionDapr(log);
  const dataDir = join(workDir, '.data');
  const logDir = join(dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const secretsFile = join(dataDir, 'secrets.json');
  const apiToken = await ensureSecretsFile(secretsFile);
  const appToken = randomBytes(24).toString('base64url');
  const processes: Stack['processes'] = {};
  let scheduler: Restartable | undefined;

  await scope
    .run(async () => {
      const servers = options.servers === false ? [] : profileSpecs[profile].servers;
      if (servers.length > 0) {
        const infraPorts = options.infraPorts ?? defaultInfraPorts;
        Object.assign(
          processes,
          (await startInfra(scope, servers, dataDir, infraPorts, log, options.kafkaTopics)).processes,
        );
      }
      if (options.scheduler !== false) {
        scheduler = await startScheduler(scope, binaries, ports, workDir, logDir);
        processes.scheduler = scheduler;
      }

      const [command = process.execPath, ...args] = options.app;
      const app = startProcess('app', command, args, {
        scope,
        cwd: projectRoot,
        output: options.appOutput === 'inherit' ? 'inherit' : join(logDir, 'app.log'),
        env: {
          APP_ID: appId,
          PORT: String(ports.app),
          METRICS_PORT: String(ports.appMetrics),
          DAPR_HTTP_PORT: String(ports.daprHttp),
          APP_API_TOKEN: appToken,
          ...profileSpecs[profile].appEnv,
          ...(options.otlpHttp
            ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://${options.otlpHttp}`, OTEL_BSP_SCHEDULE_DELAY: '200' }
            : {}),
          ...options.appEnv,
        },
        ready: () => httpOk(`http://127.0.0.1:${ports.app}/healthz`),
      });
      processes.app = app;

      const daprd = startProcess(
        'daprd',
        binaries.daprd,
        [
          '--app-id',
          appId,
          '--app-port',
          String(ports.app),
          '--app-protocol',
          'http',
          '--enable-app-health-check',
          '--app-health-check-path',
          '/healthz',
          '--dapr-http-port',
          String(ports.daprHttp),
          '--dapr-grpc-port',
          String(ports.daprGrpc),
          '--dapr-internal-grpc-port',
          String(ports.daprInternalGrpc),
          '--dapr-listen-addresses',
          '127.0.0.1',
          '--metrics-port',
          String(ports.daprMetrics),
          '--metrics-listen-address',
          '127.0.0.1',
          ...(options.resourcesPaths ?? profileResources(profile)).flatMap((path) => [
            '--resources-path',
            path,
          ]),
          '--config',
          await daprdConfig(dataDir, options.otlpHttp),
          '--scheduler-host-address',
          `127.0.0.1:${ports.scheduler}`,
          '--log-level',
          // DAPRD_LOG_LEVEL=debug also shows the Kafka client's (sarama's) own log lines.
          process.env.DAPRD_LOG_LEVEL ?? 'info',
        ],
        {
          scope,
          cwd: workDir,
          output: join(logDir, 'daprd.log'),
          env: { APP_API_TOKEN: appToken },
          ready: () => httpOk(`http://127.0.0.1:${ports.daprHttp}/v1.0/healthz`),
        },
      );
      processes.daprd = daprd;
      const alive = () => daprd.child.exitCode === null && app.child.exitCode === null;
      await waitFor('app and daprd', () => httpOk(`http://127.0.0.1:${ports.app}/readyz`), { alive });
      // daprd subscribes to the app's topics only after its own
      // health probe finds the app healthy, which can come after /readyz: wait for that too.
      await waitFor('daprd subscriptions', () => subscribed(ports, appToken), { alive });
    })
    .catch((error) => {
      throw new Error(`${(error as Error).message}. Logs: ${logDir}`, { cause: error });
    });

  return {
    binaries,
    ports,
    appId,
    apiToken,
    appToken,
    secretsFile,
    dataDir,
    logDir,
    url: `http://127.0.0.1:${ports.app}`,
    ...(scheduler === undefined
      ? {}
      : {
          scheduler: {
            stop: async () => scheduler?.stop(),
            start: async () => scheduler?.start(),
          },
        }),
    ...((profileSpecs[profile].servers as readonly Server[]).includes('kafka')
      ? { kafka: `127.0.0.1:${(options.infraPorts ?? defaultInfraPorts).kafka}` }
      : {}),
    processes,
    stop: () => scope.stop(),
  };
}

/** True when daprd's metadata lists every subscription the app declares in `/dapr/subscribe`. */
async function subscribed(ports: Ports, appToken: string): Promise<boolean> {
  try {
    const declared = (await (
      await fetch(`http://127.0.0.1:${ports.app}/dapr/subscribe`, { headers: { 'dapr-api-token': appToken } })
    ).json()) as Array<{ pubsubname: string; topic: string }>;
    const metadata = (await (await fetch(`http://127.0.0.1:${ports.daprHttp}/v1.0/metadata`)).json()) as {
      subscriptions?: Array<{ pubsubname: string; topic: string }>;
    };
    const active = new Set((metadata.subscriptions ?? []).map((s) => `${s.pubsubname}/${s.topic}`));
    return declared.every((s) => active.has(`${s.pubsubname}/${s.topic}`));
  } catch {
    return false;
  }
}

/** The scheduler with its embedded etcd under `.data/scheduler`; resolves once it is healthy. */
async function startScheduler(
  scope: Scope,
  binaries: DaprBinaries,
  ports: Ports,
  workDir: string,
  logDir: string,
) {
  const dataDir = join(workDir, '.data');
  const healthy = () => httpOk(`http://127.0.0.1:${ports.schedulerHealth}/healthz`);
  const scheduler = startProcess(
    'scheduler',
    binaries.scheduler,
    [
      '--port',
      String(ports.scheduler),
      '--listen-address',
      '127.0.0.1',
      '--healthz-port',
      String(ports.schedulerHealth),
      '--healthz-listen-address',
      '127.0.0.1',
      '--metrics-port',
      String(ports.schedulerMetrics),
      '--metrics-listen-address',
      '127.0.0.1',
      '--etcd-data-dir',
      join(dataDir, 'scheduler'),
      '--etcd-client-port',
      String(ports.etcdClient),
      '--etcd-initial-cluster',
      `dapr-scheduler-server-0=http://127.0.0.1:${ports.etcdPeer}`,
    ],
    { scope, cwd: workDir, output: join(logDir, 'scheduler.log'), ready: healthy },
  );
  await untilReady(scheduler, healthy);
  return scheduler;
}

/** daprd's Configuration: components/config.yaml, with its OTLP endpoint moved when one is given. */
async function daprdConfig(dataDir: string, otlpHttp: string | undefined): Promise<string> {
  const file = join(projectRoot, 'components', 'config.yaml');
  if (!otlpHttp) return file;
  const yaml = await readFile(file, 'utf8');
  const endpoint = /endpointAddress: "[^"]*"/;
  if (!endpoint.test(yaml)) throw new Error(`${file}: no tracing endpointAddress to move`);
  const moved = yaml.replace(endpoint, `endpointAddress: "${otlpHttp}"`);
  const copy = join(dataDir, 'config.yaml');
  await writeFile(copy, moved);
  return copy;
}
