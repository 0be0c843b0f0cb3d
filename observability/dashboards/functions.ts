/**
 * "Tasks on Dapr / Functions": what the app itself reports on METRICS_PORT
 * (shared/telemetry.ts): invocations, outcomes and durations per function and
 * trigger kind, tasks created, events processed and dead-lettered. Series link
 * to Jaeger's search for the same function's traces.
 */
import {
  dashboard,
  grafana,
  jaegerVariable,
  labelVariable,
  query,
  RATE,
  row,
  stat,
  timeseries,
  traceSearch,
} from './panels.ts';

const sel = 'app_id=~"$app_id", function=~"$function"';
const invocations = `faas_invocations_total{${sel}}`;
const buckets = `faas_invocation_duration_seconds_bucket{${sel}}`;

const quantile = (q: number) =>
  query(
    `histogram_quantile(${q}, sum by (app_id, function, trigger, le) (rate(${buckets}[${RATE}])))`,
    `{{function}} p${Math.round(q * 100)}`,
  );

export const functionsDashboard = dashboard(
  'tasks-functions',
  'Tasks on Dapr / Functions',
  'Per-function rate, errors and duration from the app’s own metrics; click a series to search its traces in Jaeger.',
)
  .withVariable(labelVariable('app_id', 'app_id', 'faas_invocations_total', 'App'))
  .withVariable(
    labelVariable('function', 'function', 'faas_invocations_total{app_id=~"$app_id"}', 'Function'),
  )
  .withVariable(jaegerVariable())
  .withRow(row('Overview'))
  .withPanel(
    stat({
      title: 'Invocations',
      description: 'Function invocations per second, every trigger kind.',
      unit: 'reqps',
      targets: [query(`sum(rate(${invocations}[${RATE}]))`, 'invocations/s')],
    }),
  )
  .withPanel(
    stat({
      title: 'Error ratio',
      description:
        'Share of invocations whose outcome is `error` (a 5xx answer or a handler that threw). Alert FunctionErrorRate fires above 5% for 5 minutes.',
      unit: 'percentunit',
      targets: [
        query(
          `sum(rate(faas_invocations_total{${sel}, outcome="error"}[${RATE}])) / sum(rate(${invocations}[${RATE}]))`,
          'error ratio',
        ),
      ],
    }),
  )
  .withPanel(
    stat({
      title: 'Tasks created',
      description: 'Tasks created per second (createTask’s committed writes).',
      unit: 'reqps',
      targets: [query(`sum(rate(tasks_created_total{app_id=~"$app_id"}[${RATE}]))`, 'tasks/s')],
    }),
  )
  .withPanel(
    stat({
      title: 'Dead-lettered (1h)',
      description:
        'Events onDeadLetter received from task-events-dlq in the last hour. Each is kept for GET /dead-letters with its trace id.',
      unit: 'short',
      targets: [
        query(`sum(increase(task_events_dead_lettered_total{app_id=~"$app_id"}[1h]))`, 'dead letters'),
      ],
    }),
  )
  .withRow(row('Per function'))
  .withPanel(
    timeseries({
      title: 'Invocations by function and trigger',
      description: 'Invocations per second. Click a series to open its recent traces in Jaeger.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, function, trigger) (rate(${invocations}[${RATE}]))`,
          '{{function}} ({{trigger}})',
        ),
      ],
      links: [traceSearch(`Traces of ${grafana('__field.labels.function')}`)],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Outcomes other than success',
      description:
        '`retry`: an event or job handed back to daprd to deliver again; `drop`: an event that can never be handled (it goes to the dead-letter topic); `error`: a 5xx answer or a throw. Click a series for the traces with that outcome.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, function, outcome) (rate(faas_invocations_total{${sel}, outcome!="success"}[${RATE}]))`,
          '{{function}} {{outcome}}',
        ),
      ],
      links: [
        traceSearch(
          `Traces of ${grafana('__field.labels.function')} with outcome ${grafana('__field.labels.outcome')}`,
          {
            tags: `%7B%22faas.outcome%22%3A%22${grafana('__field.labels.outcome')}%22%7D`,
          },
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Duration p95 by function',
      description:
        '95th percentile of the invocation time (histogram faas_invocation_duration_seconds). Click a point for the traces of that function at least that slow.',
      unit: 's',
      targets: [quantile(0.95)],
      links: [
        traceSearch(
          `Traces of ${grafana('__field.labels.function')} slower than ${grafana('__value.text')}`,
          {
            minDuration: `${grafana('__value.raw')}s`,
          },
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Duration p50 and p99 by function',
      description: 'Median and 99th percentile of the invocation time.',
      unit: 's',
      targets: [quantile(0.5), quantile(0.99)],
      links: [traceSearch(`Traces of ${grafana('__field.labels.function')}`)],
    }),
  )
  .withRow(row('Task events'))
  .withPanel(
    timeseries({
      title: 'Events handled by type',
      description: 'Task events onTaskEvent recorded in a task’s activity, per second, by CloudEvent type.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, type) (rate(task_events_processed_total{app_id=~"$app_id"}[${RATE}]))`,
          '{{type}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Dead letters',
      description:
        'Events reaching task-events-dlq. GET /dead-letters lists them with their trace id: open /trace/<traceId> in Jaeger to see where the event came from and why onTaskEvent dropped it.',
      unit: 'short',
      targets: [
        query(
          `sum by (app_id) (increase(task_events_dead_lettered_total{app_id=~"$app_id"}[${RATE}]))`,
          'dead letters',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Outbox: publishes left to the sweep, writes refused for the backlog',
      description:
        'Publishes of a write’s events that failed after its save (daprd or the broker away), and task records whose events the outbox sweep published (those, and what a crash of the app left). Both mean late events, never lost ones; a sweep count that keeps rising while the failures stay at 0 means writers are dying (docs/EVENTS.md). Refused writes were answered 503 before they began: the broker took events more slowly than the API took writes (tasks/event-backlog.ts).',
      unit: 'short',
      targets: [
        query(
          `sum by (app_id) (increase(outbox_publish_failures_total{app_id=~"$app_id"}[${RATE}]))`,
          'failed publishes',
        ),
        query(`sum by (app_id) (increase(outbox_swept_total{app_id=~"$app_id"}[${RATE}]))`, 'swept records'),
        query(
          `sum by (app_id) (increase(outbox_backlog_refusals_total{app_id=~"$app_id"}[${RATE}]))`,
          'refused writes',
        ),
      ],
    }),
  );
