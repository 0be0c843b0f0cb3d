import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK, type tracing } from '@opentelemetry/sdk-node';

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
 * usual; OTEL_SDK_DISABLED=true turns it off. No instrumentation libraries:
 * the functions' own spans and the W3C context they pass to daprd are the
 * whole of it (shared/telemetry.ts).
 */
export function startTelemetry(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  /** Where spans go instead (tests: an in-memory exporter). */
  spanProcessors?: tracing.SpanProcessor[],
): NodeSDK {
  const exporting = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || serviceName,
    ...(spanProcessors
      ? { spanProcessors }
      : exporting
        ? { traceExporter: new OTLPTraceExporter() }
        : { spanProcessors: [idsOnly] }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return sdk;
}
