/**
 * npm run bench:scaling: task-events' autoscaling, measured against real
 * Kafka lag on the redis-kafka profile.
 *
 * 1. Starts Redis, Kafka, the scheduler and the tasks-api app alone (no
 *    consumer of task-events), and sends a burst of creates through the API.
 * 2. Waits until tasks-api's outbox has published every write's event to
 *    task-events, then reads the consumer group's lag the way KEDA's Kafka scaler does and
 *    derives the replica count from keda/task-events.yaml's own parameters;
 *    checks both.
 * 3. Starts the task-events app (one replica) and measures how fast the lag
 *    drains to zero.
 *   BURST=20000 CONCURRENCY=32 npm run bench:scaling
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { testResources } from '../test/integration/resources.ts';
import { createTasks } from './lib/burst.ts';
import { KAFKA_PARTITIONS } from './lib/infra.ts';
import { consumerLag, type KafkaScaling, kedaReplicas } from './lib/kafka-lag.ts';
import { Scope } from './lib/processes.ts';
import { freePorts, projectRoot, startStack } from './lib/stack.ts';

const burst = Number(process.env.BURST ?? 20_000);
const concurrency = Number(process.env.CONCURRENCY ?? 32);
/** Each app consumes in a group named after its app-id (components/kafka/pubsub.yaml). */
const group = 'task-events';
const topic = 'task-events';

function check(what: string, ok: boolean) {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) process.exitCode = 1;
}

async function scalingOfScaledObject(): Promise<KafkaScaling> {
  const docs = parseAllDocuments(await readFile(join(projectRoot, 'keda', 'task-events.yaml'), 'utf8')).map(
    (d) => d.toJS(),
  );
  const scaled = docs.find((d) => d?.kind === 'ScaledObject');
  const metadata = scaled.spec.triggers[0].metadata;
  return {
    minReplicaCount: scaled.spec.minReplicaCount,
    maxReplicaCount: scaled.spec.maxReplicaCount,
    lagThreshold: Number(metadata.lagThreshold),
    activationLagThreshold: Number(metadata.activationLagThreshold),
    allowIdleConsumers: metadata.allowIdleConsumers === 'true',
  };
}

const seconds = (since: number) => (Date.now() - since) / 1000;
const sum = (lags: Array<{ lag: number }>) => lags.reduce((total, p) => total + p.lag, 0);

const workDir = await mkdtemp(join(tmpdir(), 'tasks-bench-'));
const resources = await testResources('redis-kafka', workDir);
const bootstrap = `127.0.0.1:${resources.infraPorts.kafka}`;
const scope = new Scope();
process.once('SIGINT', async () => {
  await scope.stop();
  process.exit(130);
});
try {
  console.log(`▶ redis-kafka: Redis, Kafka, scheduler and tasks-api (no task-events consumer) in ${workDir}`);
  const portsA = await freePorts();
  const api = await startStack({
    scope,
    profile: 'redis-kafka',
    workDir,
    ports: portsA,
    ...resources,
    appId: 'tasks-api',
    app: [process.execPath, join(projectRoot, 'dist', 'tasks-api.mjs')],
    log: (line) => console.log(`  ${line}`),
  });

  console.log(`▶ burst: ${burst} creates through the API, ${concurrency} at a time`);
  let started = Date.now();
  // A well-behaved client: a 503 (the sidecar busy, the replica full) is retried.
  const { retried, failed } = await createTasks({
    url: api.url,
    token: api.apiToken,
    count: burst,
    concurrency,
  });
  const createSeconds = seconds(started);
  console.log(
    `  ${burst} creates in ${createSeconds.toFixed(1)} s (${(burst / createSeconds).toFixed(0)}/s); ${retried} retried after a 503, ${failed} failed`,
  );
  check('every create answered 201 (after retries)', failed === 0);
  const expected = burst - failed;

  console.log('▶ outbox: waiting until every event is on task-events');
  let lag = 0;
  for (;;) {
    lag = sum(await consumerLag(bootstrap, group, topic));
    console.log(`  ${seconds(started).toFixed(0)} s after the burst began: task-events lag ${lag}`);
    if (lag >= expected) break;
    if (seconds(started) > 1800) throw new Error('the outbox did not forward every event within 30 minutes');
    await new Promise((r) => setTimeout(r, 5000));
  }
  const forwardSeconds = seconds(started);

  console.log('▶ what KEDA sees (keda/task-events.yaml)');
  const scaling = await scalingOfScaledObject();
  const partitions = (await consumerLag(bootstrap, group, topic)).length;
  const replicas = kedaReplicas(lag, partitions, scaling);
  console.log(
    `  lag ${lag} over ${partitions} partitions; lagThreshold ${scaling.lagThreshold}, activation ${scaling.activationLagThreshold}, max ${scaling.maxReplicaCount} → ${replicas} replicas`,
  );
  check(`task-events has ${KAFKA_PARTITIONS} partitions`, partitions === KAFKA_PARTITIONS);
  check(`the lag is every event of the burst (${expected})`, lag === expected);
  check(
    'replicas = min(maxReplicaCount, partitions, ceil(lag / lagThreshold))',
    replicas === Math.min(scaling.maxReplicaCount, partitions, Math.ceil(lag / scaling.lagThreshold)),
  );
  check('maxReplicaCount is not above the partition count', scaling.maxReplicaCount <= partitions);
  check(
    `below activation (${scaling.activationLagThreshold}) it would be 0 replicas`,
    kedaReplicas(scaling.activationLagThreshold, partitions, scaling) === 0,
  );

  console.log('▶ drain: task-events, one replica');
  const portsB = { ...(await freePorts()), scheduler: portsA.scheduler };
  const consumerDir = await mkdtemp(join(tmpdir(), 'tasks-bench-consumer-'));
  await startStack({
    scope,
    profile: 'redis-kafka',
    workDir: consumerDir,
    ports: portsB,
    ...resources,
    servers: false,
    scheduler: false,
    appId: 'task-events',
    app: [process.execPath, join(projectRoot, 'dist', 'task-events.mjs')],
    log: (line) => console.log(`  ${line}`),
  });
  started = Date.now();
  let remaining = lag;
  while (remaining > 0) {
    await new Promise((r) => setTimeout(r, 5000));
    remaining = sum(await consumerLag(bootstrap, group, topic));
    const done = lag - remaining;
    console.log(
      `  ${seconds(started).toFixed(0)} s: lag ${remaining} (${(done / seconds(started)).toFixed(0)} events/s)`,
    );
    if (seconds(started) > 1800) break;
  }
  const drainSeconds = seconds(started);
  check('the lag drained to zero', remaining === 0);
  console.log(`
Summary (redis-kafka, one machine: 2 cores)
  burst                 ${burst} creates, ${(burst / createSeconds).toFixed(0)} creates/s through the API
  outbox                ${forwardSeconds.toFixed(0)} s after the burst began, every event was on task-events
  KEDA at the peak      lag ${lag} → ${replicas} replicas (threshold ${scaling.lagThreshold}, max ${scaling.maxReplicaCount})
  drain, one replica    ${drainSeconds.toFixed(0)} s, ${(lag / drainSeconds).toFixed(0)} events/s
  logs                  ${workDir}/.data/logs, ${consumerDir}/.data/logs
`);
} finally {
  await scope.stop();
  if (!process.env.KEEP_TEST_DATA && process.exitCode !== 1)
    await rm(workDir, { recursive: true, force: true });
}
