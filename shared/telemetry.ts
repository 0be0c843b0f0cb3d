import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { TriggerKind } from './function.ts';

/** How one invocation ended, as its span and its log lines say it. */
export type Outcome = 'success' | 'retry' | 'drop' | 'error';

const tracer = () => trace.getTracer('tasks-on-dapr');

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
      try {
        return await run(span);
      } catch (error) {
        setOutcome(span, 'error');
        span.recordException(error as Error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Records how the invocation ended: `error` also marks the span as failed. */
export function setOutcome(span: Span, outcome: Outcome, detail?: string) {
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
