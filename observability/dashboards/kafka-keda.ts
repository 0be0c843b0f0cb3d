/**
 * "Tasks on Dapr / Kafka and KEDA": the consumer lag KEDA scales task-events on,
 * as the Kafka exporter reports it (kafka_consumergroup_lag and friends, job
 * kafka-exporter), what KEDA's operator computes from it (keda_scaler_*), and
 * the replicas that result (one daprd per replica).
 */
import { dashboard, labelVariable, query, RATE, row, stat, timeseries } from './panels.ts';

const group = 'consumergroup=~"$consumergroup"';

export const kafkaKedaDashboard = dashboard(
  'tasks-kafka-keda',
  'Tasks on Dapr / Kafka and KEDA',
  'Consumer lag per group and topic (Kafka exporter), KEDA’s scaler metrics and the replicas they give.',
)
  .withVariable(labelVariable('consumergroup', 'consumergroup', 'kafka_consumergroup_lag', 'Consumer group'))
  .withRow(row('Consumer lag'))
  .withPanel(
    stat({
      title: 'task-events lag',
      description:
        'Events on task-events not yet consumed by the task-events group: what keda/task-events.yaml scales on (one replica per 100, up to 6). Alert TaskEventsLagHigh fires above 10,000 for 5 minutes.',
      unit: 'short',
      targets: [
        query('sum(kafka_consumergroup_lag{consumergroup="task-events", topic="task-events"})', 'lag'),
      ],
    }),
  )
  .withPanel(
    stat({
      title: 'Brokers',
      description: 'Kafka brokers the exporter sees.',
      unit: 'short',
      targets: [query('max(kafka_brokers)', 'brokers')],
    }),
  )
  .withPanel(
    stat({
      title: 'Dead-letter topic size',
      description: 'Events ever written to task-events-dlq (its partitions’ end offsets).',
      unit: 'short',
      targets: [query('sum(kafka_topic_partition_current_offset{topic="task-events-dlq"})', 'events')],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Lag by group and topic',
      description:
        'Consumer lag (messages) of each Dapr consumer group: every app consumes as its own group ({appID}).',
      unit: 'short',
      targets: [
        query(
          `sum by (consumergroup, topic) (kafka_consumergroup_lag{${group}})`,
          '{{consumergroup}} {{topic}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Lag by partition',
      description:
        'Lag per partition: one partition far behind the others is a hot task (events are keyed by task id) or a stuck consumer.',
      unit: 'short',
      targets: [
        query(
          `max by (consumergroup, topic, partition) (kafka_consumergroup_lag{${group}})`,
          '{{consumergroup}} {{topic}}/{{partition}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Produced and consumed',
      description: 'Messages per second written to each topic and committed by each group.',
      unit: 'reqps',
      targets: [
        query(`sum by (topic) (rate(kafka_topic_partition_current_offset[${RATE}]))`, 'produced {{topic}}'),
        query(
          `sum by (consumergroup, topic) (rate(kafka_consumergroup_current_offset{${group}}[${RATE}]))`,
          'consumed {{consumergroup}} {{topic}}',
        ),
      ],
      span: 24,
    }),
  )
  .withRow(row('KEDA'))
  .withPanel(
    timeseries({
      title: 'Scaler metric',
      description:
        'The value each ScaledObject’s scaler reports (the lag for task-events, the request rate for tasks-api); the HPA divides it by the threshold.',
      unit: 'short',
      targets: [
        query(
          'sum by (namespace, scaledObject, metric) (keda_scaler_metrics_value)',
          '{{scaledObject}} {{metric}}',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Scaler active',
      description: '1 while a scaler is above its activation threshold (task-events leaves zero replicas).',
      unit: 'short',
      targets: [
        query('max by (namespace, scaledObject, scaler) (keda_scaler_active)', '{{scaledObject}} {{scaler}}'),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Scaler errors and latency',
      description:
        'Errors KEDA met reading a scaler (e.g. Kafka or Prometheus unreachable) and the time a read takes.',
      unit: 'short',
      targets: [
        query(
          `sum by (namespace, scaledObject) (rate(keda_scaled_object_errors_total[${RATE}]))`,
          '{{scaledObject}} errors/s',
        ),
        query(
          'max by (namespace, scaledObject, scaler) (keda_scaler_metrics_latency_seconds)',
          '{{scaledObject}} {{scaler}} latency (s)',
        ),
      ],
    }),
  )
  .withPanel(
    timeseries({
      title: 'Replicas by app',
      description: 'Running replicas of each app, counted by their sidecars Prometheus scrapes (job daprd).',
      unit: 'short',
      targets: [query('count by (app_id) (up{job="daprd"} == 1)', '{{app_id}}')],
    }),
  );
