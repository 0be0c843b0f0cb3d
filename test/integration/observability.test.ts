import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  activityTypes,
  api,
  deadLetter,
  eventually,
  prometheusQuery,
  publishToTaskEvents,
  stack,
} from './client.ts';

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  references: Array<{ refType: string; spanID: string }>;
  tags: Array<{ key: string; value: unknown }>;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** The trace as Jaeger's query API returns it, or undefined while it has none. */
async function jaegerTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${stack().jaeger}/api/traces/${traceId}`);
  if (!response.ok) return undefined;
  return ((await response.json()) as { data?: JaegerTrace[] }).data?.[0];
}

/** Traces of the last minutes that hold a span of `operation`. */
async function jaegerTraces(operation: string): Promise<JaegerTrace[]> {
  const query = new URLSearchParams({ service: 'tasks', operation, lookback: '1h', limit: '50' });
  const response = await fetch(`${stack().jaeger}/api/traces?${query}`);
  return ((await response.json()) as { data?: JaegerTrace[] }).data ?? [];
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
const tag = (span: JaegerSpan | undefined, key: string) => span?.tags.find((t) => t.key === key)?.value;
const parentOf = (span: JaegerSpan | undefined) =>
  span?.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

/** The first span of `name` in the trace whose parent is `parent` (any parent when undefined). */
function child(trace: JaegerTrace, name: string, parent?: JaegerSpan): JaegerSpan | undefined {
  return trace.spans.find(
    (s) => s.operationName === name && (parent === undefined || parentOf(s) === parent.spanID),
  );
}

// The app and daprd send their spans to a Jaeger of the suite's own, and a Prometheus of its
// own scrapes their metrics (global-setup.ts).
describe('traces read back from Jaeger, metrics in Prometheus', () => {
  it('POST /tasks: createTask, daprd’s save and publish, daprd’s delivery and onTaskEvent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const response = await api(
      'POST',
      '/tasks',
      { title: 'traced' },
      { traceparent: `00-${traceId}-${clientSpan}-01` },
    );
    expect(response.status).toBe(201);
    const task = await response.json();
    await eventually(
      () => activityTypes(task.id),
      (t) => t.length === 1,
      60_000,
    );
    // daprd sends its spans in batches (every few seconds): wait until every kind has arrived.
    const wanted = ['createTask', '/v1.0/state/statestore', '/v1.0/publish/pubsub/task-events'];
    wanted.push('pubsub/task-events', 'onTaskEvent');
    const trace = (await eventually(
      () => jaegerTrace(traceId),
      (t) => wanted.every((name) => t?.spans.some((s) => s.operationName === name)),
      30_000,
    )) as JaegerTrace;

    const create = child(trace, 'createTask');
    expect(parentOf(create)).toBe(clientSpan);
    expect(tag(create, 'task.id')).toBe(task.id);
    expect(tag(create, 'http.response.status_code')).toBe(201);
    // daprd's spans of the app's calls are the app span's children: the save (the task with its
    // event), then the outbox's publish of that event, made after the save in the request's context.
    const save = child(trace, '/v1.0/state/statestore', create);
    expect(save, 'daprd span of the save').toBeDefined();
    const publish = child(trace, '/v1.0/publish/pubsub/task-events', create);
    expect(publish, 'daprd span of the outbox’s publish').toBeDefined();
    const delivery = child(trace, 'pubsub/task-events', publish);
    expect(delivery, 'daprd span of the delivery to onTaskEvent').toBeDefined();
    // One delivery: onTaskEvent is the delivery span's child. A bulk delivery (Kafka profiles)
    // carries many events in one request, so each entry continues its own event's context, the
    // publish, beside daprd's delivery span.
    const handled = child(trace, 'onTaskEvent', delivery) ?? child(trace, 'onTaskEvent', publish);
    expect(tag(handled, 'task.id')).toBe(task.id);
    expect(tag(handled, 'faas.outcome')).toBe('success');
    const services = new Set(trace.spans.map((s) => trace.processes[s.processID]?.serviceName));
    console.log(`trace ${traceId}: ${trace.spans.length} spans, services ${[...services].join(', ')}`);
  });

  it('a reminder: reminderJob, what it calls, and onTaskEvent of its task.reminder in one trace', async () => {
    const remindAt = new Date(Date.now() + 2000).toISOString();
    const created = await api('POST', '/tasks', { title: 'traced reminder', remindAt });
    const task = await created.json();
    await eventually(
      () => activityTypes(task.id),
      (t) => t.includes('task.reminder'),
      60_000,
    );
    const trace = await eventually(
      async () =>
        (await jaegerTraces('reminderJob')).find((t) =>
          t.spans.some((s) => s.operationName === 'reminderJob' && tag(s, 'task.id') === task.id),
        ),
      (t) =>
        ['onTaskEvent', 'getTask', '/v1.0/publish/pubsub/task-events'].every((name) =>
          t?.spans.some((s) => s.operationName === name),
        ),
      30_000,
    );
    if (!trace) throw new Error('no trace of the reminder');
    const job = trace.spans.find((s) => s.operationName === 'reminderJob') as JaegerSpan;
    // daprd 1.18 sends no traceparent with a job trigger: the reminder starts its own trace.
    expect(tag(job, 'faas.trigger')).toBe('job');
    expect(tag(job, 'faas.outcome')).toBe('success');
    // reminderJob reads the task through the API (service invocation) and publishes task.reminder.
    const names = trace.spans.map((s) => s.operationName);
    expect(names).toContain('getTask');
    expect(names).toContain('/v1.0/publish/pubsub/task-events');
    const handled = trace.spans.find(
      (s) => s.operationName === 'onTaskEvent' && tag(s, 'cloudevents.event_type') === 'task.reminder',
    );
    expect(handled, 'onTaskEvent of task.reminder in the same trace').toBeDefined();
    console.log(
      `reminder trace ${trace.traceID}: ${trace.spans.length} spans; reminderJob's parent ${parentOf(job) ?? 'none'}`,
    );
  });

  it('no span in Jaeger and no line of the app’s log holds the API token or the app token', async () => {
    const { apiToken, appToken, logDir } = stack();
    // Calls that carry both: the API token on a request, the app token on daprd's calls to the app.
    const response = await api('POST', '/tasks', { title: 'secrets stay out', remindAt: inSeconds(1) });
    expect(response.status).toBe(201);
    const task = await response.json();
    await eventually(
      () => activityTypes(task.id),
      (types) => types.includes('task.reminder'),
      60_000,
    );
    const query = new URLSearchParams({ service: 'tasks', lookback: '1h', limit: '1000' });
    const traces = await eventually(
      async () =>
        ((await (await fetch(`${stack().jaeger}/api/traces?${query}`)).json()) as { data: JaegerTrace[] })
          .data,
      (list) => list.some((t) => t.spans.some((s) => tag(s, 'task.id') === task.id)),
      30_000,
    );
    const spans = JSON.stringify(traces);
    const log = await readFile(join(logDir, 'app.log'), 'utf8');
    for (const secret of [apiToken, appToken]) {
      expect(spans.includes(secret), 'a token in a span').toBe(false);
      expect(log.includes(secret), 'a token in the log').toBe(false);
    }
    console.log(
      `${traces.length} traces (${spans.length} bytes) and ${log.length} bytes of log hold no token`,
    );
  });

  it('the app serves Prometheus metrics: invocations and durations by function, trigger and outcome', async () => {
    expect((await api('POST', '/tasks', { title: 'counted' })).status).toBe(201);
    const text = await (await fetch(`http://127.0.0.1:${stack().appMetrics}/metrics`)).text();
    expect(text).toMatch(
      /^faas_invocations_total\{function="createTask",trigger="http",outcome="success"\} [1-9]/m,
    );
    expect(text).toMatch(/^faas_invocation_duration_seconds_bucket\{.*function="createTask"/m);
    expect(text).toMatch(/^tasks_created_total [1-9]/m);
    // daprd's own metrics are on too (components/config.yaml), on its metrics port.
    const daprd = await (await fetch(`http://127.0.0.1:${stack().daprMetrics}/metrics`)).text();
    expect(daprd).toMatch(/^dapr_http_server_request_count/m);
  });

  it('Prometheus scrapes the app and daprd', async () => {
    expect((await api('POST', '/tasks', { title: 'scraped' })).status).toBe(201);
    const created = await eventually(
      () => prometheusQuery('sum(tasks_created_total{job="app"})'),
      (result) => result.length > 0,
      30_000,
    );
    expect(created).toHaveLength(1);
    const sidecar = await eventually(
      () => prometheusQuery('sum(dapr_http_server_request_count{job="daprd"})'),
      (result) => result.length > 0,
      30_000,
    );
    expect(sidecar).toHaveLength(1);
  });

  it('a lost event: its dead letter names its trace, where onTaskEvent dropped it and onDeadLetter kept it', async () => {
    const traceId = randomBytes(16).toString('hex');
    const id = `lost-${randomUUID()}`;
    await publishToTaskEvents({ id, type: 'task.updated', data: { id: 7 } }, id, {
      traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    });
    // What an operator does: GET /dead-letters, then the trace by its id.
    const letter = await deadLetter(id);
    expect(letter?.traceId).toBe(traceId);
    const trace = (await eventually(
      () => jaegerTrace(traceId),
      (t) => ['onTaskEvent', 'onDeadLetter'].every((name) => t?.spans.some((s) => s.operationName === name)),
      30_000,
    )) as JaegerTrace;
    const dropped = trace.spans.find((s) => s.operationName === 'onTaskEvent');
    expect(tag(dropped, 'faas.outcome')).toBe('drop');
    expect(tag(dropped, 'messaging.message.id')).toBe(id);
    const kept = trace.spans.find((s) => s.operationName === 'onDeadLetter');
    expect(tag(kept, 'faas.outcome')).toBe('success');
    console.log(`dead letter ${id}: trace ${traceId}, ${trace.spans.length} spans`);
  });
});
