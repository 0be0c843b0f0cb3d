import { connect } from 'node:net';
import { postgresQuery } from '../../scripts/lib/infra.ts';
import type { Restartable } from '../../scripts/lib/processes.ts';
import type { Stack } from '../../scripts/lib/stack.ts';
import type { TestResources } from '../integration/resources.ts';

/**
 * What "no process spins" is measured by: CPU of daprd and the app (and of
 * the process the fault hit), as % of one core, from /proc over a window, and
 * the store's rate of commands (Redis) or transactions (PostgreSQL) over the
 * same window. The embedded SQLite lives inside daprd: daprd's CPU stands for it.
 */
export interface Readings {
  /** CPU, % of one core, per process name. */
  cpu: Record<string, number>;
  /** Commands (Redis) or committed transactions (PostgreSQL) per second; undefined for SQLite. */
  storeRate?: number;
  windowMs: number;
}

/** INFO stats' total_commands_processed over a raw RESP connection (no redis-cli needed). */
export function redisCommands(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('redis INFO timed out')));
    socket.on('connect', () => socket.write('*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n'));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const match = /total_commands_processed:(\d+)/.exec(text);
      if (match) {
        socket.end();
        resolve(Number(match[1]));
      }
    });
    socket.on('error', reject);
  });
}

/** The store's counter the rate is taken of; undefined on the embedded profile. */
function storeCounter(stack: Stack, infra: TestResources['infraPorts']): (() => Promise<number>) | undefined {
  if (stack.processes.redis) return () => redisCommands(infra.redis);
  if (stack.processes.postgres)
    return async () =>
      Number(await postgresQuery(infra.postgres, 'select sum(xact_commit) from pg_stat_database'));
  return undefined;
}

/** CPU and store rate over `windowMs`, all read over the same window. */
export async function takeReadings(
  stack: Stack,
  infra: TestResources['infraPorts'],
  names: string[],
  windowMs = 5000,
): Promise<Readings> {
  const processes = names
    .map((name) => [name, stack.processes[name as keyof Stack['processes']]] as const)
    .filter((entry): entry is readonly [string, Restartable] => entry[1]?.running() === true);
  const counter = storeCounter(stack, infra);
  const before = await Promise.all(processes.map(([, p]) => p.cpuMs()));
  const countBefore = await counter?.();
  const begun = Date.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = await Promise.all(processes.map(([, p]) => p.cpuMs()));
  const countAfter = await counter?.();
  const elapsed = Date.now() - begun;
  const cpu: Record<string, number> = {};
  processes.forEach(([name], i) => {
    cpu[name] = (((after[i] ?? 0) - (before[i] ?? 0)) / elapsed) * 100;
  });
  return {
    cpu,
    ...(countBefore === undefined || countAfter === undefined
      ? {}
      : { storeRate: ((countAfter - countBefore) / elapsed) * 1000 }),
    windowMs: elapsed,
  };
}

/**
 * Bounds for readings after recovery. Measured on this 2-core machine over
 * the scenarios of every profile, after settling: daprd 1–4.3%, the app
 * 1–4.4%, Kafka 4–6%, PostgreSQL under 1% of a core; Redis 22–31 commands/s
 * (idle 18), PostgreSQL 18–33 transactions/s (idle 3–8; the sweeps have more
 * to read). daprd 1.18's own outbox, spinning on a missing state, read 156%.
 */
export const SPIN_LIMITS = {
  /** A process's CPU after settling, % of one core. */
  cpuPercent: 15,
  /** The store's rate after settling: at most this times the idle one, plus `storeSlack` per second. */
  storeFactor: 3,
  storeSlack: 50,
};

/** Readings after recovery that break SPIN_LIMITS, compared with the idle ones; empty when none spins. */
export function spinning(idle: Readings, settled: Readings): string[] {
  const found: string[] = [];
  for (const [name, percent] of Object.entries(settled.cpu)) {
    if (percent > SPIN_LIMITS.cpuPercent)
      found.push(
        `${name} uses ${percent.toFixed(1)}% of a core after recovery (idle ${idle.cpu[name]?.toFixed(1) ?? '?'}%)`,
      );
  }
  if (idle.storeRate !== undefined && settled.storeRate !== undefined) {
    const limit = idle.storeRate * SPIN_LIMITS.storeFactor + SPIN_LIMITS.storeSlack;
    if (settled.storeRate > limit)
      found.push(
        `store rate ${settled.storeRate.toFixed(0)}/s after recovery, over ${limit.toFixed(0)}/s (idle ${idle.storeRate.toFixed(0)}/s)`,
      );
  }
  return found;
}

export const formatReadings = (r: Readings) =>
  [
    ...Object.entries(r.cpu).map(([name, percent]) => `${name} ${percent.toFixed(1)}%`),
    ...(r.storeRate === undefined ? [] : [`store ${r.storeRate.toFixed(1)}/s`]),
  ].join(', ');
