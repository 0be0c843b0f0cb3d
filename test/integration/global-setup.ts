import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freeJaegerPorts, startJaeger, startPrometheus } from '../../scripts/lib/observability.ts';
import { freePort, Scope } from '../../scripts/lib/processes.ts';
import { freePorts, projectRoot, startStack } from '../../scripts/lib/stack.ts';
import { testProfile, testResources } from './resources.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: {
      url: string;
      apiToken: string;
      appToken: string;
      daprHttp: number;
      daprMetrics: number;
      appMetrics: number;
      dataDir: string;
      logDir: string;
      kafka?: string | undefined;
      /** Jaeger's query API, where the app and daprd send their spans. */
      jaeger: string;
      /** Prometheus' query API; it scrapes the app's and daprd's metrics every second. */
      prometheus: string;
    };
  }
}

/**
 * Starts the real scheduler and daprd on free ports with the profile's
 * components (the overdue sweep every 2 s instead of every minute), and the app from its esbuild bundle (dist/all.mjs), so the
 * whole integration suite is also the bundle's smoke test. Jaeger, the stack
 * and Prometheus share one scope: if any fails to start, all that had started
 * is stopped before the error ends the run.
 */
export default async function setup(project: TestProject) {
  const bundle = join(projectRoot, 'dist', 'all.mjs');
  if (!existsSync(bundle))
    throw new Error(`${bundle} is missing: run \`npm run build\` first (npm test does).`);
  const workDir = await mkdtemp(join(tmpdir(), 'tasks-it-'));
  const profile = testProfile();
  const log = (line: string) => console.log(line);
  const logDir = join(workDir, '.data', 'logs');
  await mkdir(logDir, { recursive: true });
  const scope = new Scope();
  const { stack, jaeger, prometheus } = await scope
    .run(async () => {
      const jaeger = await startJaeger(scope, await freeJaegerPorts(), logDir, log);
      const ports = await freePorts();
      const stack = await startStack({
        scope,
        profile,
        workDir,
        ports,
        ...(await testResources(profile, workDir)),
        otlpHttp: `127.0.0.1:${jaeger.ports.otlpHttp}`,
        app: [process.execPath, bundle],
        log,
      });
      const prometheus = await startPrometheus({
        scope,
        port: await freePort(),
        targets: { app: ports.appMetrics, daprd: ports.daprMetrics },
        appId: stack.appId,
        interval: '1s',
        dataDir: stack.dataDir,
        logDir,
        log,
      });
      return { stack, jaeger, prometheus };
    })
    .catch((error) => {
      throw new Error(`could not start the ${profile} stack in ${workDir}: ${(error as Error).message}`);
    });
  project.provide('stack', {
    url: stack.url,
    apiToken: stack.apiToken,
    appToken: stack.appToken,
    daprHttp: stack.ports.daprHttp,
    daprMetrics: stack.ports.daprMetrics,
    appMetrics: stack.ports.appMetrics,
    dataDir: stack.dataDir,
    logDir: stack.logDir,
    kafka: stack.kafka,
    jaeger: jaeger.url,
    prometheus: prometheus.url,
  });
  return async () => {
    await scope.stop();
    if (!process.env.KEEP_TEST_DATA) await rm(workDir, { recursive: true, force: true });
  };
}
