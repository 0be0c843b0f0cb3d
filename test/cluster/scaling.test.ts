import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocuments } from '../../deploy/manifests.ts';
import { createTasks as burst } from '../../scripts/lib/burst.ts';
import { KAFKA_PARTITIONS } from '../../scripts/lib/infra.ts';
import { consumerLag, type KafkaScaling, kedaReplicas } from '../../scripts/lib/kafka-lag.ts';
import { startKeda } from '../../scripts/lib/keda.ts';
import { type ControlPlane, startControlPlane } from '../../scripts/lib/kube.ts';
import type { KubeObject } from '../../scripts/lib/kube-client.ts';
import { daprCrds, installCrds, kedaCrds } from '../../scripts/lib/kube-crds.ts';
import { kustomizeBuild } from '../../scripts/lib/kustomize.ts';
import { startPrometheus } from '../../scripts/lib/observability.ts';
import { freePort, Scope, waitFor } from '../../scripts/lib/processes.ts';
import { freePorts, projectRoot, type Stack, startStack } from '../../scripts/lib/stack.ts';
import { testResources } from '../integration/resources.ts';

/**
 * KEDA's operator and metrics adapter on a real control plane scale the
 * Deployments of deploy/base with the ScaledObjects of keda/, on the real
 * lag of the local Kafka broker and a real Prometheus's request rate. The
 * Task API runs outside the cluster, as npm start runs it (redis-kafka);
 * kwok plays the kubelet, so the pods the replicas make run no container.
 * Every replica count below is read from the Deployment's status, as
 * kube-controller-manager's HPA and KEDA left it; what the test computes
 * (scripts/lib/kafka-lag.ts's kedaReplicas) is checked against it.
 *
 * Changed from keda/ for loopback: the broker's address and no SASL (the
 * local broker has none), Prometheus's address, and task-events' cooldown
 * 30 s instead of 120 (so the test waits half a minute, not two); the
 * control plane's HPA controller syncs every 5 s (scripts/lib/kube.ts).
 */

const NAMESPACE = 'tasks';
const COOLDOWN_SECONDS = 30;
/** A stage waits for the operator's polls, the HPA's syncs and Prometheus's rate window: minutes, not seconds. */
const STAGE_TIMEOUT_MS = 360_000;
const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  t: number;
  /** Total lag of group task-events on topic task-events (Kafka's tools). */
  lag?: number;
  /** What KEDA reports for it through external.metrics.k8s.io (capped at partitions × lagThreshold). */
  kedaLag?: number;
  eventsDesired?: number;
  eventsReplicas: number;
  eventsReady: number;
  /** sum(rate(dapr_http_server_request_count{app_id="tasks-api"}[1m])) from Prometheus. */
  apiRate?: number;
  apiDesired?: number;
  apiReplicas: number;
}

const rendered = await Promise.all(
  ['keda', 'deploy/base'].map(async (dir) =>
    parseDocuments(await kustomizeBuild(join(projectRoot, dir)), dir),
  ),
);
const [kedaObjects = [], baseObjects = []] = rendered as KubeObject[][];
const scaledObject = (name: string) => {
  const found = kedaObjects.find((o) => o.kind === 'ScaledObject' && o.metadata.name === name);
  if (!found) throw new Error(`keda/ has no ScaledObject ${name}`);
  return structuredClone(found) as KubeObject & {
    spec: {
      minReplicaCount: number;
      maxReplicaCount: number;
      pollingInterval: number;
      cooldownPeriod: number;
      triggers: Array<{ type: string; metadata: Record<string, string>; authenticationRef?: unknown }>;
    };
  };
};
const taskEvents = scaledObject('task-events');
const tasksApi = scaledObject('tasks-api');
const trigger = taskEvents.spec.triggers[0];
if (!trigger) throw new Error('keda/task-events.yaml: no trigger');
const scaling: KafkaScaling = {
  minReplicaCount: taskEvents.spec.minReplicaCount,
  maxReplicaCount: taskEvents.spec.maxReplicaCount,
  lagThreshold: Number(trigger.metadata.lagThreshold),
  activationLagThreshold: Number(trigger.metadata.activationLagThreshold),
  allowIdleConsumers: trigger.metadata.allowIdleConsumers === 'true',
};

describe('KEDA on a real control plane', () => {
  const scope = new Scope();
  let workDir: string;
  let plane: ControlPlane;
  let api: Stack;
  let bootstrap: string;
  let prometheusUrl: string;
  let resources: Awaited<ReturnType<typeof testResources>>;
  const timeline: Sample[] = [];
  let began = 0;
  let sampling = true;
  let sampler: Promise<void> | undefined;
  let latestLag: number | undefined;
  let latestRate: number | undefined;
  let sampleErrors = 0;

  const deployment = async (name: string) => {
    const object = (await plane.client.get('apps/v1', 'Deployment', name, NAMESPACE)) as
      | { spec: { replicas?: number }; status?: { replicas?: number; readyReplicas?: number } }
      | undefined;
    return {
      spec: object?.spec.replicas ?? 0,
      replicas: object?.status?.replicas ?? 0,
      ready: object?.status?.readyReplicas ?? 0,
    };
  };
  const hpa = async (scaledObjectName: string) =>
    (await plane.client.get(
      'autoscaling/v2',
      'HorizontalPodAutoscaler',
      `keda-hpa-${scaledObjectName}`,
      NAMESPACE,
    )) as
      | {
          spec: {
            metrics: Array<{
              external: { metric: { name: string; selector: { matchLabels: Record<string, string> } } };
            }>;
          };
          status: { desiredReplicas?: number };
        }
      | undefined;
  /** The value KEDA's adapter serves for a ScaledObject's first trigger, as the HPA controller asks for it. */
  const externalMetric = async (scaledObjectName: string): Promise<number | undefined> => {
    const metric = (await hpa(scaledObjectName))?.spec.metrics[0]?.external.metric;
    if (!metric) return undefined;
    const selector = Object.entries(metric.selector.matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const list = (await plane.client.request(
      'GET',
      `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NAMESPACE}/${metric.name}?labelSelector=${encodeURIComponent(selector)}`,
    )) as { items: Array<{ value: string }> };
    return list.items[0] === undefined ? undefined : quantity(list.items[0].value);
  };
  const promRate = async () => {
    const query = tasksApi.spec.triggers[0]?.metadata.query ?? '';
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
    const value = body.data.result[0]?.value[1];
    return value === undefined ? 0 : Number(value);
  };
  const sumLag = async () =>
    (await consumerLag(bootstrap, 'task-events', 'task-events')).reduce((t, p) => t + p.lag, 0);

  async function sample() {
    const [events, eventsHpa, apiDeployment, apiHpa, kedaLag] = await Promise.all([
      deployment('task-events'),
      hpa('task-events'),
      deployment('tasks-api'),
      hpa('tasks-api'),
      externalMetric('task-events').catch(() => undefined),
    ]);
    timeline.push({
      t: seconds(began),
      lag: latestLag,
      kedaLag,
      eventsDesired: eventsHpa?.status.desiredReplicas,
      eventsReplicas: events.replicas,
      eventsReady: events.ready,
      apiRate: latestRate,
      apiDesired: apiHpa?.status.desiredReplicas,
      apiReplicas: apiDeployment.replicas,
    });
  }

  /** Creates `count` tasks through the API, 8 at a time (a 503 retried, as a client would); every one must be 201. */
  async function createTasks(count: number): Promise<string[]> {
    const { ids, failed } = await burst({ url: api.url, token: api.apiToken, count, concurrency: 8 });
    expect(failed, 'creates without a 201').toBe(0);
    return ids;
  }

  /** Waits until the lag Kafka reports is `expected` (the outbox publishes each create's event after its answer). */
  const lagReaches = (expected: number) =>
    waitFor(`task-events lag ${expected}`, async () => (await sumLag()) === expected, { timeoutMs: 60_000 });

  const replicasReach = (name: string, expected: number, timeoutMs: number) =>
    waitFor(
      `${name} at ${expected} replicas`,
      async () => {
        const d = await deployment(name);
        return d.spec === expected && d.replicas === expected && d.ready === expected;
      },
      { timeoutMs },
    );

  beforeAll(async () => {
    if (!existsSync(join(projectRoot, 'dist', 'tasks-api.mjs')))
      throw new Error('dist/ has no tasks-api.mjs: run npm run build first');
    workDir = await mkdtemp(join(tmpdir(), 'tasks-scaling-'));
    resources = await testResources('redis-kafka', workDir);
    const ports = await freePorts();
    api = await startStack({
      scope,
      profile: 'redis-kafka',
      workDir,
      ports,
      ...resources,
      appId: 'tasks-api',
      app: [process.execPath, join(projectRoot, 'dist', 'tasks-api.mjs')],
      // Created before the first deployment, as deploy/README.md says: KEDA's scaler cannot tell a lag
      // of a topic that does not exist yet, and keeps the replicas it finds until it can.
      kafkaTopics: { 'task-events': KAFKA_PARTITIONS, 'task-events-dlq': 1 },
      log: console.log,
    });
    bootstrap = api.kafka ?? '';
    const promDir = join(workDir, 'prometheus');
    await mkdir(promDir, { recursive: true });
    const prometheus = await startPrometheus({
      scope,
      port: await freePort(),
      targets: { app: ports.appMetrics, daprd: ports.daprMetrics },
      appId: 'tasks-api',
      interval: '1s',
      dataDir: promDir,
      logDir: api.logDir,
      log: console.log,
    });
    prometheusUrl = prometheus.url;

    plane = await startControlPlane({ scope, log: console.log });
    await installCrds(plane.client, [...(await kedaCrds()), ...(await daprCrds())]);
    await startKeda({ scope, plane, log: console.log });
    await plane.client.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
      fakeNode('kwok-node-0'),
    ]);
    // deploy/README.md's Secrets, first: KEDA resolves the scale target's env (APP_API_TOKEN's
    // secretKeyRef) while it builds a ScaledObject's scalers, and makes no HPA while one is missing.
    await plane.client.apply(deploySecrets(), { namespace: NAMESPACE });
    await plane.client.apply(baseObjects, { namespace: NAMESPACE });

    trigger.metadata.bootstrapServers = bootstrap;
    delete trigger.authenticationRef;
    taskEvents.spec.cooldownPeriod = COOLDOWN_SECONDS;
    const promTrigger = tasksApi.spec.triggers[0];
    if (promTrigger) promTrigger.metadata.serverAddress = prometheusUrl;
    await plane.client.apply([taskEvents, tasksApi], { namespace: NAMESPACE });
    began = Date.now();

    sampler = (async () => {
      const lagLoop = (async () => {
        while (sampling) {
          latestLag = await sumLag().catch(() => latestLag);
          await sleep(1000);
        }
      })();
      while (sampling) {
        latestRate = await promRate().catch(() => latestRate);
        await sample().catch((error: Error) => {
          sampleErrors += 1;
          if (sampleErrors <= 3) console.log(`[timeline] a sample failed: ${error.message}`);
        });
        await sleep(1000);
      }
      await lagLoop;
    })();
  });

  afterAll(async () => {
    sampling = false;
    await sampler;
    // The last stage ends on the change it waited for: a sample of it closes the timeline.
    if (plane) await sample().catch(() => undefined);
    const table = timelineTable(timeline);
    console.log(table);
    console.log(`[timeline] ${timeline.length} samples, ${sampleErrors} failed`);
    if (workDir)
      await writeFile(join(workDir, 'timeline.json'), JSON.stringify(timeline)).catch(() => undefined);
    if (process.env.SCALING_TIMELINE) await writeFile(process.env.SCALING_TIMELINE, table);
    await scope.stop();
    if (workDir && !process.env.KEEP_TEST_DATA) await rm(workDir, { recursive: true, force: true });
  });

  it(
    'takes task-events to zero replicas while nothing waits, and tasks-api to its minimum',
    async () => {
      expect(scaling.minReplicaCount).toBe(0);
      await replicasReach('task-events', 0, 90_000);
      await replicasReach('tasks-api', tasksApi.spec.minReplicaCount, 90_000);
      expect(await sumLag()).toBe(0);
    },
    STAGE_TIMEOUT_MS,
  );

  it(
    'stays at zero with the lag at the activation threshold',
    async () => {
      const lag = scaling.activationLagThreshold;
      await createTasks(lag);
      await lagReaches(lag);
      const since = Date.now();
      // Two of the operator's polls of the lag, then the HPA's sync.
      while (Date.now() - since < (2 * taskEvents.spec.pollingInterval + 5) * 1000) {
        expect((await deployment('task-events')).spec).toBe(0);
        await sleep(1000);
      }
      expect(kedaReplicas(lag, KAFKA_PARTITIONS, scaling)).toBe(0);
    },
    STAGE_TIMEOUT_MS,
  );

  it(
    'scales task-events from zero to ceil(lag / lagThreshold)',
    async () => {
      const lag = 250;
      await createTasks(lag - scaling.activationLagThreshold);
      await lagReaches(lag);
      const expected = Math.ceil(lag / scaling.lagThreshold);
      expect(kedaReplicas(lag, KAFKA_PARTITIONS, scaling)).toBe(expected);
      await replicasReach('task-events', expected, 120_000);
      // The HPA KEDA made reads the lag through external.metrics.k8s.io.
      expect(await externalMetric('task-events')).toBe(lag);
    },
    STAGE_TIMEOUT_MS,
  );

  it(
    'caps task-events at the partitions of task-events',
    async () => {
      const lag = 850;
      await createTasks(lag - 250);
      await lagReaches(lag);
      const expected = Math.min(scaling.maxReplicaCount, KAFKA_PARTITIONS);
      expect(kedaReplicas(lag, KAFKA_PARTITIONS, scaling)).toBe(expected);
      await replicasReach('task-events', expected, 120_000);
      expect(await externalMetric('task-events')).toBe(KAFKA_PARTITIONS * scaling.lagThreshold);
    },
    STAGE_TIMEOUT_MS,
  );

  it(
    'goes back to zero after the cooldown, once the real task-events app has drained the lag',
    async () => {
      const consumerDir = join(workDir, 'task-events');
      await mkdir(consumerDir, { recursive: true });
      await startStack({
        scope,
        profile: 'redis-kafka',
        workDir: consumerDir,
        ports: { ...(await freePorts()), scheduler: api.ports.scheduler },
        ...resources,
        servers: false,
        scheduler: false,
        appId: 'task-events',
        app: [process.execPath, join(projectRoot, 'dist', 'task-events.mjs')],
        log: console.log,
      });
      await waitFor('task-events drained', async () => (await sumLag()) === 0, { timeoutMs: 180_000 });
      await replicasReach(
        'task-events',
        0,
        (COOLDOWN_SECONDS + 2 * taskEvents.spec.pollingInterval + 30) * 1000,
      );
      const atZero = Date.now();
      // Not before the cooldown: KEDA records the last poll that found the lag above activation.
      const status = (await plane.client.get('keda.sh/v1alpha1', 'ScaledObject', 'task-events', NAMESPACE))
        ?.status as { lastActiveTime?: string } | undefined;
      const lastActive = Date.parse(status?.lastActiveTime ?? '');
      // lastActiveTime has whole seconds.
      expect(atZero - lastActive).toBeGreaterThanOrEqual((COOLDOWN_SECONDS - 1) * 1000);
    },
    STAGE_TIMEOUT_MS,
  );

  it(
    'moves tasks-api with its request rate from Prometheus, and back to its minimum',
    async () => {
      const [id] = await createTasks(1);
      const min = tasksApi.spec.minReplicaCount;
      let loading = true;
      const load = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (loading) {
            const response = await fetch(`${api.url}/tasks/${id}`, {
              headers: { authorization: `Bearer ${api.apiToken}` },
            });
            await response.body?.cancel();
          }
        }),
      );
      try {
        await waitFor(
          'tasks-api above its minimum',
          async () => (await deployment('tasks-api')).replicas > min,
          {
            timeoutMs: 120_000,
          },
        );
      } finally {
        loading = false;
        await load;
      }
      const peak = timeline.at(-1);
      expect(peak?.apiRate ?? 0).toBeGreaterThan(min * Number(tasksApi.spec.triggers[0]?.metadata.threshold));
      await replicasReach('tasks-api', min, 180_000);
      const most = Math.max(...timeline.map((s) => s.apiReplicas));
      expect(most).toBeGreaterThan(min);
      expect(most).toBeLessThanOrEqual(tasksApi.spec.maxReplicaCount);
    },
    STAGE_TIMEOUT_MS,
  );
});

/** A node kwok keeps Ready (its annotation is what kwok manages), with room for every replica. */
function fakeNode(name: string): KubeObject {
  const room = { cpu: '32', memory: '64Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', type: 'kwok' },
    },
    status: { allocatable: room, capacity: room },
  };
}

/** The Secrets deploy/README.md has an installer create, with its names and keys (values of a test's). */
function deploySecrets(): KubeObject[] {
  const secrets: Record<string, Record<string, string>> = {
    'tasks-app-api-token': { token: 'app-token-of-the-scaling-test' },
    'tasks-api-token': { 'tasks-api-token': 'api-token-of-the-scaling-test' },
    redis: { password: 'unused' },
    'kafka-sasl': { username: 'unused', password: 'unused', sasl: 'scram_sha512' },
    'notifications-webhook': { url: 'http://127.0.0.1:9/unused', token: 'unused' },
  };
  return Object.entries(secrets).map(([name, stringData]) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'Opaque',
    stringData,
  }));
}

/** A Kubernetes quantity as the metrics API writes one ("250", "1500m", "2k"). */
function quantity(value: string): number {
  const match = /^(-?[\d.]+)([mkMG]?)$/.exec(value);
  if (!match) throw new Error(`not a quantity: ${value}`);
  const scale = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9 }[match[2] as '' | 'm' | 'k' | 'M' | 'G'];
  return Number(match[1]) * scale;
}

/** The timeline as a Markdown table, a row each time something in it changed. */
function timelineTable(samples: Sample[]): string {
  const columns: Array<[string, (s: Sample) => string]> = [
    ['s', (s) => s.t.toFixed(1)],
    ['lag (Kafka tools)', (s) => String(s.lag ?? '')],
    ['KEDA metric', (s) => String(s.kedaLag ?? '')],
    ['task-events desired', (s) => String(s.eventsDesired ?? '')],
    ['task-events replicas (ready)', (s) => `${s.eventsReplicas} (${s.eventsReady})`],
    ['tasks-api rate/s', (s) => (s.apiRate === undefined ? '' : s.apiRate.toFixed(1))],
    ['tasks-api desired', (s) => String(s.apiDesired ?? '')],
    ['tasks-api replicas', (s) => String(s.apiReplicas)],
  ];
  const rows: string[] = [];
  let last = '';
  for (const s of samples) {
    // The rate moves every scrape: a row for a change of replicas, desired counts or lag.
    const key = columns
      .filter(([name]) => name !== 's' && name !== 'tasks-api rate/s')
      .map(([, cell]) => cell(s))
      .join('|');
    if (key === last) continue;
    last = key;
    rows.push(`| ${columns.map(([, cell]) => cell(s)).join(' | ')} |`);
  }
  return [
    `| ${columns.map(([name]) => name).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows,
    '',
  ].join('\n');
}
