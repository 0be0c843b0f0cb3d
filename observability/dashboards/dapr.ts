/**
 * "Tasks on Dapr / Dapr sidecars": daprd's own metrics (--metrics-port, on by
 * the Configuration): its HTTP API as the app calls it, its calls to the app,
 * gRPC, pub/sub egress and ingress, state store latency, component health and
 * resiliency. Paths are the patterns of the Configuration's
 * metric.http.pathMatching (components/config.yaml), not raw URLs.
 */
import { dashboard, labelVariable, query, RATE, row, stat, timeseries } from './panels.ts';

const app = 'app_id=~"$app_id"';
const p95 = (histogram: string, by: string, legend: string) =>
  query(`histogram_quantile(0.95, sum by (${by}, le) (rate(${histogram}{${app}}[${RATE}])))`, legend);

/** `expr`, or 0 for every series of `base` that `expr` lacks: a failure count that reads 0, not "no data", while nothing failed. */
const orZero = (expr: string, base: string) => `${expr} or (${base} * 0)`;
const failures = (counter: string, by: string) =>
  orZero(
    `sum by (${by}) (rate(${counter}{${app}, success="false"}[${RATE}]))`,
    `sum by (${by}) (rate(${counter}{${app}}[${RATE}]))`,
  );

export const daprDashboard = dashboard(
  'tasks-dapr',
  'Tasks on Dapr / Dapr sidecars',
  'daprd’s HTTP and gRPC traffic, pub/sub, state, components and resiliency, per app.',
)
  .withVariable(labelVariable('app_id', 'app_id', 'dapr_http_server_request_count', 'App'))
  .withRow(row('Sidecars'))
  .withPanel(
    stat({
      title: 'Sidecars up',
      description:
        'daprd metrics endpoints Prometheus reaches (job daprd). Alert SidecarDown fires when one stops answering.',
      unit: 'short',
      targets: [query('sum(up{job="daprd"})', 'up')],
    }),
  )
  .withPanel(
    stat({
      title: 'Sidecars down',
      description: 'daprd metrics endpoints that do not answer.',
      unit: 'short',
      targets: [query('count(up{job="daprd"} == 0) or vector(0)', 'down')],
    }),
  )
  .withPanel(
    stat({
      title: 'Dapr API 5xx ratio',
      description:
        'Share of the app’s calls to daprd answered 5xx. Dapr 1.18 answers 500 to GET of a missing job, which scheduleReminder does when it checks for one.',
      unit: 'percentunit',
      targets: [
        query(
          `(sum(rate(dapr_http_server_request_count{${app}, status=~"5.."}[${RATE}])) or vector(0)) / sum(rate(dapr_http_server_request_count{${app}}[${RATE}]))`,
          '5xx ratio',
        ),
      ],
    }),
  )
  .withPanel(
    stat({
      title: 'Open circuit breakers',
      description: 'Resiliency circuit breakers currently open (components/common/resiliency.yaml).',
      unit: 'short',
      targets: [query(`sum(dapr_resiliency_cb_state{${app}, status="open"}) or vector(0)`, 'open')],
    }),
  )
  .withRow(row('HTTP and gRPC'))
  .withPanel(
    timeseries({
      title: 'Dapr API requests (app → daprd)',
      description: 'Requests to daprd’s HTTP API per second, by path pattern and status.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, method, path, status) (rate(dapr_http_server_request_count{${app}}[${RATE}]))`,
          '{{app_id}} {{method}} {{path}} {{status}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Dapr API latency p95',
      description: 'Time daprd takes to answer the app, by path pattern (ms).',
      unit: 'ms',
      targets: [
        p95('dapr_http_server_latency_bucket', 'app_id, method, path', '{{app_id}} {{method}} {{path}}'),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Calls to the app (daprd → app)',
      description:
        'Deliveries, job and binding triggers and invoked routes daprd sends the app, per second, by path and status.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, method, path, status) (rate(dapr_http_client_completed_count{${app}}[${RATE}]))`,
          '{{app_id}} {{method}} {{path}} {{status}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Calls to the app latency p95',
      description: 'Round trip of daprd’s calls to the app (ms): the functions’ time plus the hop.',
      unit: 'ms',
      targets: [
        p95(
          'dapr_http_client_roundtrip_latency_bucket',
          'app_id, method, path',
          '{{app_id}} {{method}} {{path}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'gRPC',
      description:
        'gRPC calls daprd serves (its gRPC API) and makes (the scheduler for jobs, other sidecars), by method and status.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, grpc_server_method, grpc_server_status) (rate(dapr_grpc_io_server_completed_rpcs{${app}}[${RATE}]))`,
          'served {{grpc_server_method}} {{grpc_server_status}}',
        ),
        query(
          `sum by (app_id, grpc_client_method, grpc_client_status) (rate(dapr_grpc_io_client_completed_rpcs{${app}}[${RATE}]))`,
          'made {{grpc_client_method}} {{grpc_client_status}}',
        ),
      ],
      span: 24,
    }),
  )
  .withRow(row('Pub/sub'))
  .withPanel(
    timeseries({
      title: 'Pub/sub egress',
      description: 'Events daprd publishes for the apps, per second, by topic and success.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, component, topic, success) (rate(dapr_component_pubsub_egress_count{${app}}[${RATE}]))`,
          '{{app_id}} {{topic}} success={{success}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Pub/sub ingress',
      description:
        'Events daprd delivers to the app, per second, by topic and the app’s answer (success, retry, drop): one by one, and in bulk deliveries (PUBSUB_BULK, the Kafka profiles) per event.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, component, topic, process_status) (rate(dapr_component_pubsub_ingress_count{${app}}[${RATE}]))`,
          '{{app_id}} {{topic}} {{process_status}}',
        ),
        query(
          `sum by (app_id, component, topic, process_status) (rate(dapr_component_pubsub_ingress_bulk_event_count{${app}}[${RATE}]))`,
          '{{app_id}} {{topic}} {{process_status}} (bulk)',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Pub/sub delivery latency p95',
      description:
        'Time from daprd receiving an event, or a bulk of them, to the app’s answer (ms), by topic.',
      unit: 'ms',
      targets: [
        p95('dapr_component_pubsub_ingress_latencies_bucket', 'app_id, topic', '{{app_id}} {{topic}}'),
        p95(
          'dapr_component_pubsub_ingress_bulk_latencies_bucket',
          'app_id, topic',
          '{{app_id}} {{topic}} (bulk)',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Pub/sub publish latency p95',
      description: 'Time the broker takes to accept a publish (ms), by topic.',
      unit: 'ms',
      targets: [
        p95('dapr_component_pubsub_egress_latencies_bucket', 'app_id, topic', '{{app_id}} {{topic}}'),
      ],
    }),
  )
  .withRow(row('State'))
  .withPanel(
    timeseries({
      title: 'State operations',
      description: 'State store operations per second, by operation and success.',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, component, operation, success) (rate(dapr_component_state_count{${app}}[${RATE}]))`,
          '{{app_id}} {{operation}} success={{success}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'State latency p95',
      description: 'State store latency (ms), by operation.',
      unit: 'ms',
      targets: [
        p95(
          'dapr_component_state_latencies_bucket',
          'app_id, component, operation',
          '{{app_id}} {{operation}}',
        ),
      ],
    }),
  )
  .withRow(row('Components and resiliency'))
  .withPanel(
    timeseries({
      title: 'Component health',
      description:
        'Components each sidecar initialised, by type, and initialisations that failed (with the reason). A failed component keeps daprd from starting unless ignoreErrors is set.',
      unit: 'short',
      targets: [
        query(
          `sum by (app_id, component) (dapr_runtime_component_init_total{${app}})`,
          '{{app_id}} {{component}}',
        ),
        query(
          orZero(
            `sum by (app_id, component) (dapr_runtime_component_init_fail_total{${app}})`,
            `sum by (app_id, component) (dapr_runtime_component_init_total{${app}})`,
          ),
          '{{app_id}} {{component}} failed',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Component errors',
      description: 'Failed state operations, publishes and secret reads per second (0 while none fail).',
      unit: 'reqps',
      targets: [
        query(
          failures('dapr_component_state_count', 'app_id, component, operation'),
          '{{app_id}} state {{operation}}',
        ),
        query(
          failures('dapr_component_pubsub_egress_count', 'app_id, component, topic'),
          '{{app_id}} publish {{topic}}',
        ),
        query(
          failures('dapr_component_secret_count', 'app_id, component'),
          '{{app_id}} secret {{component}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Resiliency policies applied',
      description:
        'Retries, timeouts and circuit breaker checks daprd applied per second, by target and policy (components/common/resiliency.yaml).',
      unit: 'reqps',
      targets: [
        query(
          `sum by (app_id, target, policy, flow_direction) (rate(dapr_resiliency_count{${app}}[${RATE}]))`,
          '{{app_id}} {{flow_direction}} {{target}} {{policy}}',
        ),
      ],
      span: 24,
    }),
  );
