/**
 * npm run bench:telemetry: what the app's OpenTelemetry costs createTask.
 *
 * Runs the embedded profile from the bundle (dist/all.mjs) with Jaeger beside
 * it, alternately with the app's SDK on (spans exported over OTLP/HTTP, the
 * Prometheus endpoint served) and off (OTEL_SDK_DISABLED=true); daprd traces
 * to Jaeger in both, so only the app's share differs. Each run sends
 * CREATES creates, CONCURRENCY at a time, after a warm-up, and prints the
 * throughput, the client's latency percentiles and the app process's CPU
 * time per create (from /proc: the cost itself, which the latency shows only
 * through the noise of the store and daprd).
 *   CREATES=2000 CONCURRENCY=8 ROUNDS=3 npm run bench:telemetry
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeJaegerPorts, startJaeger } from './lib/observability.ts';
import { Scope } from './lib/processes.ts';
import { freePorts, projectRoot, startStack } from './lib/stack.ts';

const creates = Number(process.env.CREATES ?? 2000);
const concurrency = Number(process.env.CONCURRENCY ?? 8);
const rounds = Number(process.env.ROUNDS ?? 3);
const warmup = 200;

interface Run {
  telemetry: 'on' | 'off';
  perSecond: number;
  cpuMs: number;
  p50: number;
  p95: number;
  p99: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const bundle = join(projectRoot, 'dist', 'all.mjs');

/** Sends `count` creates, `concurrency` at a time; returns each one's latency (ms) and the total time (s). */
async function load(url: string, token: string, count: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        const sent = performance.now();
        const response = await fetch(`${url}/tasks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `bench ${next}` }),
        });
        await response.body?.cancel();
        if (response.status !== 201) throw new Error(`create answered ${response.status}`);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

const workDir = await mkdtemp(join(tmpdir(), 'tasks-bench-telemetry-'));
const logDir = join(workDir, 'logs');
await mkdir(logDir, { recursive: true });
const scope = new Scope();
const runs: Run[] = [];
try {
  const jaeger = await startJaeger(scope, await freeJaegerPorts(), logDir);
  for (let round = 1; round <= rounds; round++) {
    for (const telemetry of ['off', 'on'] as const) {
      const dir = join(workDir, `${telemetry}-${round}`);
      await mkdir(dir);
      const stack = await startStack({
        scope,
        profile: 'embedded',
        workDir: dir,
        ports: await freePorts(),
        otlpHttp: `127.0.0.1:${jaeger.ports.otlpHttp}`,
        app: [process.execPath, bundle],
        ...(telemetry === 'off' ? { appEnv: { OTEL_SDK_DISABLED: 'true' } } : {}),
        log: () => {},
      });
      try {
        await load(stack.url, stack.apiToken, warmup);
        const app = stack.processes.app;
        if (!app) throw new Error('the stack has no app process');
        const cpuBefore = await app.cpuMs();
        const { latencies, seconds } = await load(stack.url, stack.apiToken, creates);
        // The events of these writes are published and handled after the last answer: let them finish.
        await new Promise((resolve) => setTimeout(resolve, 5000));
        const cpu = (await app.cpuMs()) - cpuBefore;
        const sorted = latencies.sort((a, b) => a - b);
        const run: Run = {
          telemetry,
          perSecond: creates / seconds,
          cpuMs: cpu / creates,
          p50: percentile(sorted, 50),
          p95: percentile(sorted, 95),
          p99: percentile(sorted, 99),
        };
        runs.push(run);
        console.log(
          `round ${round}, telemetry ${telemetry.padEnd(3)}: ${run.perSecond.toFixed(0)} creates/s; latency p50 ${run.p50.toFixed(1)} ms, p95 ${run.p95.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms; app CPU ${run.cpuMs.toFixed(2)} ms per create`,
        );
      } finally {
        await stack.stop();
      }
    }
  }
  // Medians over the rounds: one round disturbed by the machine does not move them.
  const median = (telemetry: Run['telemetry'], key: 'perSecond' | 'cpuMs' | 'p50' | 'p95' | 'p99') => {
    const values = runs.filter((r) => r.telemetry === telemetry).map((r) => r[key]);
    return percentile(
      values.sort((a, b) => a - b),
      50,
    );
  };
  console.log(`\n${creates} creates × ${rounds} rounds, ${concurrency} at a time (medians of the rounds):`);
  const labels = {
    perSecond: 'creates/s',
    cpuMs: 'app CPU per create (ms)',
    p50: 'p50 (ms)',
    p95: 'p95 (ms)',
    p99: 'p99 (ms)',
  };
  for (const key of ['perSecond', 'cpuMs', 'p50', 'p95', 'p99'] as const) {
    const off = median('off', key);
    const on = median('on', key);
    const change = ((on - off) / off) * 100;
    console.log(
      `  ${labels[key]}: off ${off.toFixed(1)}, on ${on.toFixed(1)} (${change >= 0 ? '+' : ''}${change.toFixed(1)}%)`,
    );
  }
} finally {
  await scope.stop();
  await rm(workDir, { recursive: true, force: true });
}
