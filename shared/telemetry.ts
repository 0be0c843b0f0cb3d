import {
  type Attributes,
  context,
  type Meter,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { type ShedReason, shedReasons } from './admission.ts';
import type { TriggerKind } from './trigger-kind.ts';

/** How one invocation ended, as its span and its log lines say it. */
export type Outcome = 'success' | 'retry' | 'drop' | 'error';

const tracer = () => trace.getTracer('tasks-on-dapr');

/**
 * Instruments made by `make` from the meter provider registered at start,
 * made again if another one is registered (as in tests). The runtime's own
 * and an app's (tasks/metrics.ts) are made this way.
 */
export function instrumentsOf<T>(make: (meter: Meter) => T): () => T {
  let made: { provider: MeterProvider; instruments: T } | undefined;
  return () => {
    const provider = metrics.getMeterProvider();
    if (made?.provider !== provider)
      made = { provider, instruments: make(provider.getMeter('tasks-on-dapr')) };
    return made.instruments;
  };
}

/**
 * The runtime's instruments. Prometheus names: faas_invocations_total and
 * faas_invocation_duration_seconds (by function, trigger and outcome),
 * requests_shed_total (by reason).
 */
const instruments = instrumentsOf((meter) => ({
  invocations: meter.createCounter('faas.invocations', { description: 'Function invocations' }),
  duration: meter.createHistogram('faas.invocation.duration.seconds', {
    description: 'Function invocation time',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  }),
  shed: meter.createCounter('requests.shed', {
    description: 'Client requests answered 503 by admission control, by reason',
  }),
}));

const outcomes = new WeakMap<Span, Outcome>();

/** Counts a client request shed by admission control. */
export const countRequestShed = (reason: ShedReason) => instruments().shed.add(1, { reason });

/**
 * Exports every counter these functions can move at 0 before the first
 * invocation. Prometheus' rate() and increase() only see a counter rise from a
 * sample it already has: without these zeros, the first error or dead letter
 * after a start would never show in a rate, and the alerts on them (error
 * ratio, dead letters) would miss it. An app zeroes its own counters the same
 * way (AppDefinition.zeroCounters).
 */
export function zeroCounters(fns: ReadonlyArray<{ name: string; trigger: { kind: TriggerKind } }>) {
  const { invocations, shed } = instruments();
  for (const fn of fns)
    for (const outcome of ['success', 'error'] as const)
      invocations.add(0, { function: fn.name, trigger: fn.trigger.kind, outcome });
  if (fns.some((fn) => fn.trigger.kind === 'http')) for (const reason of shedReasons) shed.add(0, { reason });
}

/** W3C trace context fields, from request headers or a CloudEvent's attributes. */
export type TraceCarrier = Record<string, string | undefined>;

const spanKinds: Record<TriggerKind, SpanKind> = {
  http: SpanKind.SERVER,
  topic: SpanKind.CONSUMER,
  job: SpanKind.CONSUMER,
  binding: SpanKind.CONSUMER,
};

/**
 * Runs one function invocation in a span of its own, named after the
 * function, whose parent is the W3C trace context daprd (or a client) sent
 * in `carrier`. Every call to daprd made inside `run` carries this span's
 * context (see traceHeaders), so daprd's spans are its children. `run`
 * reports the outcome; a throw is recorded as `error`.
 */
export async function invocation<T>(
  fn: { name: string; trigger: TriggerKind },
  carrier: TraceCarrier,
  attributes: Attributes,
  run: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), carrier, {
    get: (c, key) => c[key],
    keys: (c) => Object.keys(c),
  });
  return tracer().startActiveSpan(
    fn.name,
    {
      kind: spanKinds[fn.trigger],
      attributes: { 'faas.name': fn.name, 'faas.trigger': fn.trigger, ...attributes },
    },
    parent,
    async (span) => {
      const started = performance.now();
      try {
        return await run(span);
      } catch (error) {
        setOutcome(span, 'error');
        span.recordException(error as Error);
        throw error;
      } finally {
        span.end();
        const labels = { function: fn.name, trigger: fn.trigger, outcome: outcomes.get(span) ?? 'success' };
        instruments().invocations.add(1, labels);
        instruments().duration.record((performance.now() - started) / 1000, labels);
      }
    },
  );
}

/** Records how the invocation ended: `error` also marks the span as failed. */
export function setOutcome(span: Span, outcome: Outcome, detail?: string) {
  outcomes.set(span, outcome);
  span.setAttribute('faas.outcome', outcome);
  if (outcome === 'error')
    span.setStatus({ code: SpanStatusCode.ERROR, ...(detail ? { message: detail } : {}) });
}

/** The current trace context as W3C headers (`traceparent`, `tracestate`), for a call to daprd. */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}

/** The current span's ids, for log lines; empty outside a span. */
export function traceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active())?.spanContext();
  if (!span || !trace.isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId };
}
