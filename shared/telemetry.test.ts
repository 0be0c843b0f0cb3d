import { Writable } from 'node:stream';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createTask } from '../functions/createTask/index.ts';
import { getTask } from '../functions/getTask/index.ts';
import { onTaskEvent } from '../functions/onTaskEvent/index.ts';
import { zeroTaskCounters } from '../tasks/metrics.ts';
import { createTestApp } from '../tasks/testing.ts';
import { createHttpGateway } from './dapr-http.ts';
import { createLogger } from './log.ts';
import { invocation, setOutcome, traceHeaders, zeroCounters } from './telemetry.ts';
import { startTelemetry } from './telemetry-sdk.ts';

const exporter = new tracing.InMemorySpanExporter();
const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
const sdk = startTelemetry(
  'telemetry-test',
  {},
  {
    spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
    metricReaders: [prometheus],
  },
);

/** What GET /metrics would answer now. */
/** A sample's value in Prometheus' text format, 0 when the line is absent. */
const value = (text: string, line: string) =>
  Number(text.match(new RegExp(`^${escapeRegExp(line)} (\\S+)$`, 'm'))?.[1] ?? 0);

async function scrape(): Promise<string> {
  let body = '';
  await new Promise<void>((resolve) => {
    const response = {
      statusCode: 0,
      setHeader() {},
      end(text: string) {
        body = text;
        resolve();
      },
    };
    prometheus.getMetricsRequestHandler({} as never, response as never);
  });
  return body;
}
afterAll(() => sdk.shutdown());
beforeEach(() => exporter.reset());
/** The ended spans; export waits for the resource's detected attributes, so give it a moment. */
async function finished() {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return exporter.getFinishedSpans();
}

const daprdSpan = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const traceparent = `00-${daprdSpan.traceId}-${daprdSpan.spanId}-01`;

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, log: createLogger({ app: 'tasks', unit: 'all' }, stream) };
}

describe('telemetry', () => {
  it("makes one span per invocation, a child of daprd's traceparent, and passes its context on", async () => {
    let sent: Record<string, string> = {};
    const result = await invocation(
      { name: 'onTaskEvent', trigger: 'topic' },
      { traceparent },
      { 'task.id': 't1' },
      async (span) => {
        sent = traceHeaders();
        setOutcome(span, 'retry');
        return 'RETRY';
      },
    );
    expect(result).toBe('RETRY');
    const [span] = await finished();
    expect(span?.name).toBe('onTaskEvent');
    expect(span?.spanContext().traceId).toBe(daprdSpan.traceId);
    expect(span?.parentSpanContext?.spanId).toBe(daprdSpan.spanId);
    expect(span?.attributes).toMatchObject({
      'faas.name': 'onTaskEvent',
      'faas.trigger': 'topic',
      'faas.outcome': 'retry',
      'task.id': 't1',
    });
    // A call to daprd inside the invocation names this span as its parent.
    expect(sent.traceparent).toBe(`00-${daprdSpan.traceId}-${span?.spanContext().spanId}-01`);
  });

  it('starts a new trace without a traceparent, and records a throw as an error', async () => {
    await expect(
      invocation({ name: 'reminderJob', trigger: 'job' }, {}, {}, async () => {
        throw new Error('scheduler down');
      }),
    ).rejects.toThrow('scheduler down');
    const [span] = await finished();
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.attributes['faas.outcome']).toBe('error');
    expect(span?.status.code).toBe(2);
  });

  it('log lines carry the trace and span ids inside an invocation, and never a secret', async () => {
    const { lines, log } = captured();
    await invocation({ name: 'createTask', trigger: 'http' }, { traceparent }, {}, async () => {
      log.child({ function: 'createTask' }).info('created', {
        taskId: 't1',
        headers: { authorization: 'Bearer s3cret' },
        apiToken: 's3cret',
      });
    });
    log.warn('outside', { error: new Error('boom') });
    const [inside, outside] = lines;
    const span = (await finished())[0]?.spanContext();
    expect(inside).toMatchObject({
      level: 'info',
      msg: 'created',
      app: 'tasks',
      function: 'createTask',
      taskId: 't1',
      trace_id: span?.traceId,
      span_id: span?.spanId,
    });
    expect(JSON.stringify(lines)).not.toContain('s3cret');
    expect(typeof inside?.time).toBe('string');
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside?.error).toMatchObject({ type: 'Error', message: 'boom' });
  });

  it('the router gives HTTP and topic functions their spans: status, outcome, task id, parent', async () => {
    const { call, fromDaprd } = createTestApp([createTask, onTaskEvent]);
    const created = await call('POST', '/tasks', { title: 'traced' }, { traceparent });
    const task = await created.json();
    const bad = await call('POST', '/tasks', { title: '' }, { traceparent });
    expect(bad.status).toBe(400);
    const entry = {
      entryId: '1',
      event: {
        id: 'e1',
        type: 'task.created',
        source: 'tasks',
        specversion: '1.0',
        subject: task.id,
        traceparent,
        data: task,
      },
    };
    await fromDaprd('/events/onTaskEvent', { entries: [entry] });
    const spans = await finished();
    const http = spans.filter((span) => span.name === 'createTask');
    expect(http.map((span) => span.attributes['http.response.status_code'])).toEqual([201, 400]);
    expect(http[0]?.attributes).toMatchObject({ 'task.id': task.id, 'faas.outcome': 'success' });
    const consumed = spans.find((span) => span.name === 'onTaskEvent');
    expect(consumed?.parentSpanContext?.spanId).toBe(daprdSpan.spanId);
    expect(consumed?.attributes).toMatchObject({
      'faas.trigger': 'topic',
      'faas.outcome': 'success',
      'task.id': task.id,
      'messaging.message.id': 'e1',
    });
  });

  it("the gateway's calls to daprd carry the invocation's context", async () => {
    const seen: Headers[] = [];
    const dapr = createHttpGateway({
      baseUrl: 'http://daprd',
      transport: async ({ headers }) => {
        seen.push(new Headers(headers));
        return { status: 204, headers: new Headers(), text: '' };
      },
    });
    await invocation({ name: 'getTask', trigger: 'http' }, { traceparent }, {}, () =>
      dapr.getState('statestore', 'k'),
    );
    const span = (await finished())[0]?.spanContext();
    expect(seen[0]?.get('traceparent')).toBe(`00-${daprdSpan.traceId}-${span?.spanId}-01`);
  });

  it('counts invocations by function, trigger and outcome, with their durations, for Prometheus', async () => {
    const { call, fromDaprd } = createTestApp([createTask, onTaskEvent]);
    const before = await scrape();
    const task = await (await call('POST', '/tasks', { title: 'counted' })).json();
    await call('POST', '/tasks', { title: '' });
    const event = { id: 'm1', type: 'task.created', source: 'tasks', specversion: '1.0', data: task };
    await fromDaprd('/events/onTaskEvent', event);
    await fromDaprd('/events/onTaskEvent', { ...event, id: 'm2', data: { bad: true } });
    const after = await scrape();
    // Counters add up over the file's tests: compare with what they were before this one.
    const grew = (line: string) => value(after, line) - value(before, line);
    expect(grew('faas_invocations_total{function="createTask",trigger="http",outcome="success"}')).toBe(2);
    expect(grew('faas_invocations_total{function="onTaskEvent",trigger="topic",outcome="success"}')).toBe(1);
    expect(grew('faas_invocations_total{function="onTaskEvent",trigger="topic",outcome="drop"}')).toBe(1);
    expect(
      grew('faas_invocation_duration_seconds_count{function="createTask",trigger="http",outcome="success"}'),
    ).toBe(2);
    expect(grew('tasks_created_total')).toBe(1);
    expect(grew('task_events_processed_total{type="task.created"}')).toBe(1);
  });

  it('counts a failed publish after a save, and the record the sweep published instead', async () => {
    const { call, dapr, deps } = createTestApp([createTask]);
    const before = await scrape();
    dapr.failNext('publishCloudEvent', new Error('daprd went away'));
    expect((await call('POST', '/tasks', { title: 'left for the sweep' })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 2100)); // the sweep's grace for writers
    expect(await deps.tasks.sweepOutbox()).toEqual({ published: 1, released: 1 });
    const after = await scrape();
    expect(
      value(after, 'outbox_publish_failures_total') - value(before, 'outbox_publish_failures_total'),
    ).toBe(1);
    expect(value(after, 'outbox_swept_total') - value(before, 'outbox_swept_total')).toBe(1);
  });

  it('exports the counters alerts rate() on at 0 from the start, so their first rise is seen', async () => {
    expect(await scrape()).not.toMatch(/^task_events_dead_lettered_total/m);
    const fns = [
      { name: 'onDeadLetter', trigger: { kind: 'topic' } },
      { name: 'neverInvoked', trigger: { kind: 'job' } },
    ] as const;
    // The runtime's counters, then the app's own (as serve() does with AppDefinition.zeroCounters).
    zeroCounters(fns);
    zeroTaskCounters(fns);
    const text = await scrape();
    expect(text).toMatch(/^task_events_dead_lettered_total 0$/m);
    expect(text).toMatch(
      /^faas_invocations_total\{function="neverInvoked",trigger="job",outcome="error"\} 0$/m,
    );
    expect(text).toMatch(
      /^faas_invocations_total\{function="onDeadLetter",trigger="topic",outcome="success"\} 0$/m,
    );
  });
});

describe('requests_shed_total', () => {
  it('is exported at 0 for an app with HTTP functions, and counts a request admission control shed', async () => {
    zeroCounters([{ name: 'getTask', trigger: { kind: 'http' } }]);
    const before = await scrape();
    expect(before).toMatch(/^requests_shed_total\{reason="full"\} \d+$/m);
    expect(before).toMatch(/^requests_shed_total\{reason="waited"\} \d+$/m);
    const { call, dapr } = createTestApp([getTask], { MAX_INFLIGHT_REQUESTS: '1', MAX_QUEUED_REQUESTS: '0' });
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const getState = dapr.getState.bind(dapr);
    dapr.getState = async (store, key) => {
      await held;
      return getState(store, key);
    };
    const holding = call('GET', '/tasks/00000000-0000-4000-8000-000000000001');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await call('GET', '/tasks/00000000-0000-4000-8000-000000000002')).status).toBe(503);
    release();
    await holding;
    const line = 'requests_shed_total{reason="full"}';
    expect(value(await scrape(), line) - value(before, line)).toBe(1);
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
