import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Restartable, type Scope, type Started, startProcess, waitFor } from './processes.ts';

/**
 * The servers behind the Redis, Postgres and Kafka profiles, on loopback,
 * installed on first use and started as children of this process: Redis and
 * PostgreSQL from Debian's packages (apt-get, when running as root), Apache
 * Kafka 4 (KRaft, one node) from its jars on Maven Central (tools/kafka).
 * Data lives under the given directory; each joins the given scope, whose
 * stop() ends them cleanly (and which a failed start leaves to its caller).
 */
export type Server = 'redis' | 'postgres' | 'kafka';

export interface InfraPorts {
  redis: number;
  postgres: number;
  kafka: number;
  kafkaController: number;
}

/** The ports the profiles' components name (npm start); tests use free ones and rewrite their copies. */
export const defaultInfraPorts: InfraPorts = {
  redis: 56379,
  postgres: 55432,
  kafka: 59092,
  kafkaController: 59093,
};

export const KAFKA_VERSION = '4.1.1';
/** Partitions of every topic the broker creates on first use (task-events among them). */
export const KAFKA_PARTITIONS = 6;
const POSTGRES_USER = 'tasks';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

export interface Infra {
  ports: InfraPorts;
  /** Each server's process, to kill, pause or restart on its own (fault tests); the scope stops them all. */
  processes: Partial<Record<Server, Restartable>>;
}

export async function startInfra(
  scope: Scope,
  servers: readonly Server[],
  dataDir: string,
  ports: InfraPorts,
  log: (line: string) => void = console.log,
  /** Kafka topics to create up front, with their partition counts. */
  kafkaTopics: Record<string, number> = {},
): Promise<Infra> {
  const processes: Infra['processes'] = {};
  await mkdir(join(dataDir, 'logs'), { recursive: true });
  for (const server of servers) {
    const begun = Date.now();
    processes[server] =
      server === 'redis'
        ? await startRedis(scope, dataDir, ports, log)
        : server === 'postgres'
          ? await startPostgres(scope, dataDir, ports, log)
          : await startKafka(scope, dataDir, ports, kafkaTopics, log);
    log(`[infra] ${server} ready on 127.0.0.1:${ports[server]} (${Date.now() - begun} ms)`);
  }
  return { ports, processes };
}

async function startRedis(
  scope: Scope,
  dataDir: string,
  ports: InfraPorts,
  log: (line: string) => void,
): Promise<Restartable> {
  const binary = await ensureCommand('redis-server', 'redis-server', log);
  const dir = join(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const redis = startProcess(
    'redis',
    binary,
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(ports.redis),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ],
    { scope, cwd: dir, output: join(dataDir, 'logs', 'redis.log'), ready: () => portOpen(ports.redis) },
  );
  await waitForPort('redis', ports.redis, redis);
  return redis;
}

async function startPostgres(
  scope: Scope,
  dataDir: string,
  ports: InfraPorts,
  log: (line: string) => void,
): Promise<Restartable> {
  const bin = await postgresBin(log);
  const dir = join(dataDir, 'postgres');
  const data = join(dir, 'data');
  await mkdir(dir, { recursive: true });
  // PostgreSQL refuses to run as root: as root, it runs as the `postgres` user the package created.
  const user = process.getuid?.() === 0 ? await postgresIds() : undefined;
  if (user) {
    await chown(dir, user.uid, user.gid);
    await run('test', ['-w', dir], user).catch(() => {
      throw new Error(`the postgres user cannot reach ${dir}: every directory above it needs o+x`);
    });
  }
  if (!existsSync(join(data, 'PG_VERSION'))) {
    log(`[infra] initdb ${data}`);
    await run(join(bin, 'initdb'), ['-D', data, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8'], user);
  }
  const args = ['-D', data, '-h', '127.0.0.1', '-p', String(ports.postgres), '-k', dir];
  // The port opens while the server is still starting up, when daprd's state store would fail to
  // initialise (and daprd exit): it is ready once it accepts connections.
  const accepting = () =>
    run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(ports.postgres), '-U', POSTGRES_USER]).then(
      () => true,
      () => false,
    );
  const postgres = startProcess('postgres', join(bin, 'postgres'), args, {
    scope,
    user,
    cwd: dir,
    output: join(dataDir, 'logs', 'postgres.log'),
    ready: accepting,
    // A fast shutdown, as the official image's STOPSIGNAL: SIGTERM asks for a smart one, which waits
    // for daprd's connections to close.
    stopSignal: 'SIGINT',
    // The same for stop(): a fast shutdown first, then the SIGTERM.
    beforeStop: async () => void (await run(join(bin, 'pg_ctl'), ['-D', data, 'stop', '-m', 'fast'], user)),
  });
  await waitFor('postgres', accepting, { alive: () => postgres.child.exitCode === null });
  return postgres;
}

async function startKafka(
  scope: Scope,
  dataDir: string,
  ports: InfraPorts,
  topics: Record<string, number>,
  log: (line: string) => void,
): Promise<Restartable> {
  const libs = await kafkaLibs(log);
  const dir = join(dataDir, 'kafka');
  await mkdir(dir, { recursive: true });
  const properties = join(dir, 'server.properties');
  await writeFile(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${ports.kafkaController}`,
      `listeners=PLAINTEXT://127.0.0.1:${ports.kafka},CONTROLLER://127.0.0.1:${ports.kafkaController}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${ports.kafka}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'logs')}`,
      `num.partitions=${KAFKA_PARTITIONS}`,
      'auto.create.topics.enable=true',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  const java = [
    '-Xms256m',
    '-Xmx768m',
    `-Dlog4j2.configurationFile=${join(root, 'tools', 'kafka', 'log4j2.properties')}`,
    '-cp',
    `${libs}/*`,
  ];
  if (!existsSync(join(dir, 'logs', 'meta.properties'))) {
    const { stdout } = await run('java', [...java, 'kafka.tools.StorageTool', 'random-uuid']);
    await run('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', stdout.trim(), '-c', properties]);
  }
  const kafka = startProcess('kafka', 'java', [...java, 'kafka.Kafka', properties], {
    scope,
    cwd: dir,
    output: join(dataDir, 'logs', 'kafka.log'),
    ready: () => portOpen(ports.kafka),
  });
  // A fresh KRaft node on a busy 2-core machine once took 58 s to register with its own controller.
  await waitFor('kafka', () => portOpen(ports.kafka), {
    alive: () => kafka.child.exitCode === null,
    timeoutMs: 150_000,
  });
  for (const [topic, partitions] of Object.entries(topics)) {
    await run('java', [
      ...java,
      'org.apache.kafka.tools.TopicCommand',
      '--bootstrap-server',
      `127.0.0.1:${ports.kafka}`,
      '--create',
      '--if-not-exists',
      '--topic',
      topic,
      '--partitions',
      String(partitions),
    ]);
  }
  return kafka;
}

/** The broker's jars, resolved from Maven Central into ~/.cache once per Kafka version. */
async function kafkaLibs(log: (line: string) => void): Promise<string> {
  const libs = join(homedir(), '.cache', 'tasks-on-dapr', `kafka-${KAFKA_VERSION}`, 'libs');
  if (existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) return libs;
  await ensureCommand('java', 'openjdk-17-jre-headless', log);
  const mvn = await ensureCommand('mvn', 'maven', log);
  log(`[infra] resolving the Kafka ${KAFKA_VERSION} broker jars from Maven Central into ${libs}`);
  await run(
    mvn,
    [
      '-q',
      '-B',
      '-f',
      join(root, 'tools', 'kafka', 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return libs;
}

async function postgresBin(log: (line: string) => void): Promise<string> {
  const find = () => {
    const base = '/usr/lib/postgresql';
    const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
    return versions.map((v) => join(base, v, 'bin')).find((bin) => existsSync(join(bin, 'postgres')));
  };
  let found = find();
  if (!found) {
    await aptInstall('postgresql', log);
    found = find();
  }
  if (!found) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin');
  return found;
}

/** One SQL statement through psql against the local server (as its `tasks` user); the rows, unaligned. */
export async function postgresQuery(port: number, sql: string): Promise<string> {
  const psql = join(await postgresBin(() => {}), 'psql');
  const { stdout } = await run(psql, [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    POSTGRES_USER,
    '-d',
    'postgres',
    '-Atc',
    sql,
  ]);
  return stdout.trim();
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/** The command's path; installs the Debian package that has it when missing and running as root. */
export async function ensureCommand(
  command: string,
  aptPackage: string,
  log: (line: string) => void,
): Promise<string> {
  const which = async () =>
    (await run('sh', ['-c', `command -v ${command}`]).catch(() => ({ stdout: '' }))).stdout.trim();
  let path = await which();
  if (!path) {
    await aptInstall(aptPackage, log);
    path = await which();
  }
  if (!path) throw new Error(`${command} is missing; install the Debian package ${aptPackage}`);
  return path;
}

async function aptInstall(aptPackage: string, log: (line: string) => void) {
  if (process.getuid?.() !== 0)
    throw new Error(`${aptPackage} is not installed (apt-get install ${aptPackage})`);
  log(`[infra] apt-get install ${aptPackage}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', aptPackage], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    await run('apt-get', ['update', '-q'], { env, maxBuffer: 64 * 1024 * 1024 });
    await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', aptPackage], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
  }
}

async function waitForPort(name: string, port: number, process: Started) {
  await waitFor(name, () => portOpen(port), { alive: () => process.child.exitCode === null });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}
