import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KAFKA_VERSION } from './infra.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

export interface PartitionLag {
  partition: number;
  /** The group's committed offset; undefined when it has none yet. */
  committed: number | undefined;
  latest: number;
  /** The lag as KEDA's Kafka scaler counts it (see consumerLag). */
  lag: number;
}

/** The Kafka tools of the local broker's jars (tools/kafka), run on the JVM. */
async function kafkaTool(mainClass: string, args: string[]): Promise<string> {
  const libs = join(homedir(), '.cache', 'tasks-on-dapr', `kafka-${KAFKA_VERSION}`, 'libs');
  const { stdout } = await run(
    'java',
    [
      `-Dlog4j2.configurationFile=${join(root, 'tools', 'kafka', 'log4j2.properties')}`,
      '-cp',
      `${libs}/*`,
      mainClass,
      ...args,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/**
 * A consumer group's lag on one topic, per partition, counted the way KEDA's
 * Kafka scaler counts it: latest offset minus the committed offset; for a
 * partition the group has not committed on, the whole partition with
 * offsetResetPolicy `earliest` (the group would start there), nothing with
 * `latest`.
 */
export async function consumerLag(
  bootstrap: string,
  group: string,
  topic: string,
  offsetResetPolicy: 'earliest' | 'latest' = 'earliest',
): Promise<PartitionLag[]> {
  const latest = new Map<number, number>();
  const offsets = await kafkaTool('org.apache.kafka.tools.GetOffsetShell', [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--time',
    '-1',
  ]);
  for (const line of offsets.split('\n')) {
    const match = /^(.+):(\d+):(\d+)$/.exec(line.trim());
    if (match?.[1] === topic) latest.set(Number(match[2]), Number(match[3]));
  }
  const committed = new Map<number, number>();
  const described = await kafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
    '--bootstrap-server',
    bootstrap,
    '--describe',
    '--group',
    group,
  ]).catch(() => '');
  for (const line of described.split('\n')) {
    const [, lineTopic, partition, current] = line.trim().split(/\s+/);
    if (lineTopic === topic && current !== undefined && /^\d+$/.test(current))
      committed.set(Number(partition), Number(current));
  }
  return [...latest.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, end]) => {
      const at = committed.get(partition);
      const lag = at === undefined ? (offsetResetPolicy === 'earliest' ? end : 0) : Math.max(0, end - at);
      return { partition, committed: at, latest: end, lag };
    });
}

export interface KafkaScaling {
  minReplicaCount: number;
  maxReplicaCount: number;
  lagThreshold: number;
  activationLagThreshold: number;
  allowIdleConsumers: boolean;
}

/**
 * The replica count KEDA (and the HPA it drives) settles on for a total lag:
 * zero at or below the activation threshold when the minimum is zero;
 * otherwise ceil(lag / lagThreshold), where the lag counted is capped at
 * partitions × lagThreshold unless idle consumers are allowed, within
 * [max(1, minReplicaCount), maxReplicaCount]. test/cluster/scaling.test.ts
 * checks it against what KEDA's operator and the HPA it makes really do with
 * keda/task-events.yaml (0 at the activation threshold, 3 for a lag of 250,
 * the partition cap of 6 for 850).
 */
export function kedaReplicas(totalLag: number, partitions: number, scaling: KafkaScaling): number {
  if (totalLag <= scaling.activationLagThreshold && scaling.minReplicaCount === 0) return 0;
  const counted = scaling.allowIdleConsumers
    ? totalLag
    : Math.min(totalLag, partitions * scaling.lagThreshold);
  const wanted = Math.ceil(counted / scaling.lagThreshold);
  return Math.min(scaling.maxReplicaCount, Math.max(1, scaling.minReplicaCount, wanted));
}

export interface TopicRecord {
  partition: number;
  /** The record key; undefined for a record without one. */
  key: string | undefined;
  value: string;
}

/** Every record of a topic from its beginning (what arrived within a few seconds of reading). */
export async function topicRecords(bootstrap: string, topic: string): Promise<TopicRecord[]> {
  const out = await kafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--from-beginning',
    '--timeout-ms',
    '4000',
    ...[
      '--property',
      'print.partition=true',
      '--property',
      'print.key=true',
      '--property',
      'print.value=true',
    ],
  ]).catch((error: { stdout?: string }) => {
    // The console consumer exits non-zero when its timeout ends the read; what it printed counts.
    if (typeof error.stdout === 'string') return error.stdout;
    throw error;
  });
  return out
    .split('\n')
    .map((line) => /^Partition:(\d+)\t(.*?)\t(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, partition, key, value]) => ({
      partition: Number(partition),
      key: key === 'null' ? undefined : key,
      value: value ?? '',
    }));
}
