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
 * usual; OTEL_SDK_DISABLED=true turns it off. Metrics are served for
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

export function startTelemetry(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  options: TelemetryOptions = {},
): NodeSDK {
  const { spanProcessors, metrics: endpoint } = options;
  const metricReaders =
    options.metricReaders ??
    (endpoint && endpoint.port > 0
      ? [new PrometheusExporter({ host: endpoint.host, port: endpoint.port, withoutScopeInfo: true })]
      : []);
  const exporting = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
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
