import { describe, expect, it } from 'vitest';
import { startTelemetry, unsupportedTelemetryEnv } from './telemetry-sdk.ts';

describe('unsupportedTelemetryEnv (OTEL_* values the bundles cannot honour)', () => {
  it('accepts what the functions do: OTLP/HTTP JSON spans, Prometheus metrics, W3C propagation', () => {
    expect(
      unsupportedTelemetryEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_PROPAGATORS: 'tracecontext, baggage',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      }),
    ).toEqual([]);
    expect(unsupportedTelemetryEnv({})).toEqual([]);
  });

  it.each([
    ['OTEL_TRACES_EXPORTER', 'zipkin'],
    ['OTEL_TRACES_EXPORTER', 'otlp,console'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http/protobuf'],
    ['OTEL_METRICS_EXPORTER', 'otlp'],
    ['OTEL_LOGS_EXPORTER', 'otlp'],
    ['OTEL_PROPAGATORS', 'tracecontext,b3'],
    ['OTEL_CONFIG_FILE', '/etc/otel.yaml'],
  ])('refuses %s=%s, naming the variable and what is supported', (name, value) => {
    const [problem, ...more] = unsupportedTelemetryEnv({ [name]: value });
    expect(more).toEqual([]);
    expect(problem).toMatch(new RegExp(`^${name}`));
    expect(problem).toMatch(/supported/);
  });

  it('makes the process refuse to start, before NodeSDK starts', () => {
    expect(() => startTelemetry('t', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /^Unsupported OpenTelemetry configuration:\n {2}OTEL_EXPORTER_OTLP_PROTOCOL=grpc: grpc not supported; .*supported: http\/json/,
    );
  });
});
