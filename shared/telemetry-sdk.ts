import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { type metrics, NodeSDK, type tracing } from '@opentelemetry/sdk-node';

/** Makes spans (so log lines carry their ids) without sending them anywhere. */
const idsOnly: tracing.SpanProcessor = {
  onStart() {},
  onEnd() {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

/**
 * Starts OpenTelemetry for the process before it serves anything, set by the
 * standard variables: with OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) spans go there over OTLP/HTTP; without
 * it they are made but not sent. OTEL_SERVICE_NAME overrides the service
 * name (default: the app's name); OTEL_TRACES_SAMPLER and the rest apply as
 * usual; OTEL_SDK_DISABLED=true turns it off; OTEL_TRACES_EXPORTER=none
 * sends no spans. Values that would need another exporter, protocol or
 * propagator are refused (unsupportedTelemetryEnv). Metrics are served for
 * Prometheus on their own port. No instrumentation libraries: the functions'
 * own spans, the W3C context they pass to daprd and the counters in
 * shared/telemetry.ts are the whole of it.
 */
export interface TelemetryOptions {
  /** Where `GET /metrics` (Prometheus) listens; port 0: no metrics endpoint. */
  metrics?: { host: string; port: number };
  /** Where spans go instead (tests: an in-memory exporter). */
  spanProcessors?: tracing.SpanProcessor[];
  /** Where metrics go instead (tests). */
  metricReaders?: metrics.IMetricReader[];
}

/** Values of a comma-separated OTEL_* list, trimmed and lower-cased; empty when unset. */
const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);

/**
 * What OTEL_* values this process can honour. NodeSDK is handed its
 * exporters here, so it builds none from OTEL_TRACES_EXPORTER and the like,
 * and the bundles leave out the modules it would build them with (gRPC,
 * protobuf, Zipkin, B3, Jaeger: scripts/lib/left-out.ts). A value that asks
 * for one is refused, naming the variable and what is supported, rather than
 * telemetry silently going elsewhere or nowhere. Returns the problems, one a line.
 */
export function unsupportedTelemetryEnv(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const only = (name: string, supported: readonly string[], hint: string) => {
    const unsupported = list(env[name]).filter((value) => !supported.includes(value));
    if (unsupported.length > 0)
      problems.push(`${name}=${env[name]}: ${unsupported.join(', ')} not supported; ${hint}`);
  };
  only('OTEL_TRACES_EXPORTER', ['otlp', 'none'], 'supported: otlp (OTLP/HTTP JSON) or none');
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'])
    only(name, ['http/json'], 'spans go over OTLP/HTTP with JSON only: supported: http/json (or unset)');
  only(
    'OTEL_METRICS_EXPORTER',
    ['prometheus'],
    'metrics are served for Prometheus on METRICS_PORT (0 turns them off): supported: prometheus (or unset)',
  );
  only('OTEL_LOGS_EXPORTER', ['none'], 'logs are JSON lines on stdout: supported: none (or unset)');
  only('OTEL_PROPAGATORS', ['tracecontext', 'baggage', 'none'], 'supported: tracecontext, baggage, none');
  for (const name of ['OTEL_CONFIG_FILE', 'OTEL_EXPERIMENTAL_CONFIG_FILE'])
    if (env[name]) problems.push(`${name}: configuration files are not supported; use the OTEL_* variables`);
  return problems;
}

export function startTelemetry(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  options: TelemetryOptions = {},
): NodeSDK {
  const problems = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' ? [] : unsupportedTelemetryEnv(env);
  if (problems.length > 0)
    throw new Error(`Unsupported OpenTelemetry configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  const { spanProcessors, metrics: endpoint } = options;
  const metricReaders =
    options.metricReaders ??
    (endpoint && endpoint.port > 0
      ? [new PrometheusExporter({ host: endpoint.host, port: endpoint.port, withoutScopeInfo: true })]
      : []);
  const exporting =
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) &&
    !list(env.OTEL_TRACES_EXPORTER).includes('none');
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    ...(spanProcessors
      ? { spanProcessors }
      : exporting
        ? { traceExporter: new OTLPTraceExporter() }
        : { spanProcessors: [idsOnly] }),
    metricReaders,
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return sdk;
}
