import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { goToolBinary } from './go-tool.ts';
import { ensureCommand } from './infra.ts';
import { freePort, httpOk, type Scope, type Started, startProcess, untilReady } from './processes.ts';

const root = resolve(import.meta.dirname, '../..');

/** Jaeger v2 (jaegertracing/jaeger's cmd/jaeger) at the version tools/jaeger/go.mod pins. */
export function jaegerBinary(log: (line: string) => void = console.log): Promise<string> {
  return goToolBinary({
    dir: 'jaeger',
    name: 'jaeger',
    target: 'github.com/jaegertracing/jaeger/cmd/jaeger',
    files: ['go.mod', 'go.sum'],
    log: (line) => log(`[observability] ${line}`),
    announce:
      'building Jaeger v2 from the Go module proxy (about 5 minutes the first time on a quiet machine)',
  });
}

export interface JaegerPorts {
  query: number;
  queryGrpc: number;
  health: number;
  otlpGrpc: number;
  otlpHttp: number;
}

export const defaultJaegerPorts: JaegerPorts = {
  query: 16686,
  queryGrpc: 16685,
  health: 13133,
  otlpGrpc: 4317,
  otlpHttp: 4318,
};

export async function freeJaegerPorts(): Promise<JaegerPorts> {
  return {
    query: await freePort(),
    queryGrpc: await freePort(),
    health: await freePort(),
    otlpGrpc: await freePort(),
    otlpHttp: await freePort(),
  };
}

export interface Jaeger extends Pick<Started, 'stop'> {
  ports: JaegerPorts;
  /** The query API and UI, e.g. http://127.0.0.1:16686 */
  url: string;
  /** Where OTLP/HTTP goes: the app's OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpHttp: string;
}

/**
 * Starts Jaeger with observability/jaeger.yaml (OTLP in, memory storage), in
 * `scope`, and waits for its health check.
 */
export async function startJaeger(
  scope: Scope,
  ports: JaegerPorts,
  logDir: string,
  log: (line: string) => void = console.log,
): Promise<Jaeger> {
  const binary = await jaegerBinary(log);
  const started = Date.now();
  const jaeger = startProcess('jaeger', binary, ['--config', join(root, 'observability', 'jaeger.yaml')], {
    scope,
    cwd: root,
    output: join(logDir, 'jaeger.log'),
    env: {
      JAEGER_QUERY_PORT: String(ports.query),
      JAEGER_QUERY_GRPC_PORT: String(ports.queryGrpc),
      JAEGER_HEALTH_PORT: String(ports.health),
      JAEGER_OTLP_GRPC_PORT: String(ports.otlpGrpc),
      JAEGER_OTLP_HTTP_PORT: String(ports.otlpHttp),
    },
  });
  await untilReady(jaeger, () => httpOk(`http://127.0.0.1:${ports.health}/status`));
  log(`[observability] jaeger ready on 127.0.0.1:${ports.query} (${Date.now() - started} ms)`);
  return {
    ports,
    url: `http://127.0.0.1:${ports.query}`,
    otlpHttp: `http://127.0.0.1:${ports.otlpHttp}`,
    stop: () => jaeger.stop(),
  };
}

/** Whether Prometheus answers and its last scrape of the app and of daprd succeeded. */
async function bothScraped(url: string): Promise<boolean> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('up == 1')}`).catch(
    () => undefined,
  );
  if (!response?.ok) return false;
  const body = (await response.json()) as { data: { result: Array<{ metric: { job: string } }> } };
  const jobs = new Set(body.data.result.map((sample) => sample.metric.job));
  return jobs.has('app') && jobs.has('daprd');
}

export interface Prometheus extends Pick<Started, 'stop'> {
  /** The query API and UI, e.g. http://127.0.0.1:9091 */
  url: string;
}

export interface PrometheusOptions {
  /** What owns the process. */
  scope: Scope;
  port: number;
  /** What it scrapes: the app's metrics port and daprd's. */
  targets: { app: number; daprd: number };
  /** The app's id, the `app_id` label of both targets (default "tasks"). */
  appId?: string;
  /** Scrape interval, e.g. "1s" in tests (default: observability/prometheus.yml's). */
  interval?: string;
  dataDir: string;
  logDir: string;
  log?: (line: string) => void;
}

/**
 * Starts Prometheus (the Debian package, installed with apt-get when missing
 * and running as root) with observability/prometheus.yml, its targets moved
 * to the given ports, its data under `dataDir`; waits until it is ready.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const { port, targets, dataDir, logDir, log = console.log } = options;
  const binary = await ensureCommand('prometheus', 'prometheus', log);
  let config = await readFile(join(root, 'observability', 'prometheus.yml'), 'utf8');
  config = config
    .replace('"127.0.0.1:9464"', `"127.0.0.1:${targets.app}"`)
    .replace('"127.0.0.1:9090"', `"127.0.0.1:${targets.daprd}"`)
    .replaceAll('app_id: "tasks"', `app_id: ${JSON.stringify(options.appId ?? 'tasks')}`)
    .replace('"alerts.yml"', JSON.stringify(join(root, 'observability', 'alerts.yml')));
  if (options.interval) config = config.replace(/interval: 5s/g, `interval: ${options.interval}`);
  const file = join(dataDir, 'prometheus.yml');
  await writeFile(file, config);
  const started = Date.now();
  const prometheus = startProcess(
    'prometheus',
    binary,
    [
      `--config.file=${file}`,
      `--storage.tsdb.path=${join(dataDir, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=2d',
    ],
    { scope: options.scope, cwd: dataDir, output: join(logDir, 'prometheus.log') },
  );
  // Ready once it has scraped both targets: the counters' first samples (0 before any load) are
  // what rate() and increase() measure a rise from.
  await untilReady(prometheus, () => bothScraped(`http://127.0.0.1:${port}`));
  log(`[observability] prometheus ready on 127.0.0.1:${port}, both targets up (${Date.now() - started} ms)`);
  return { url: `http://127.0.0.1:${port}`, stop: () => prometheus.stop() };
}
