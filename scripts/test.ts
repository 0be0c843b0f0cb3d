/**
 * npm test: the whole suite. Provisions the Dapr binaries (built from the Go
 * module proxy on first use), builds the bundles, runs the unit tests, then
 * the integration suite once per profile (the same files, only the
 * components and the servers behind them differ), then `npm run bench --
 * --smoke` once per profile (every benchmark path, no timing), then the fault scenarios
 * once per profile (test/faults: each process killed under load, the store
 * and the broker paused), then the cluster tests (test/cluster: the manifests on
 * a real kube-apiserver, KEDA scaling on real Kafka lag and Prometheus), and
 * prints a table of steps and one of faults.
 *   npm test                                   # unit + integration + faults on every profile, then cluster
 *   TEST_PROFILES=embedded npm test            # integration and faults on some profiles only
 *   npm test -- --project unit                 # arguments go to one vitest run
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultsRunDir, formatFailures, formatTable, readResults } from '../test/faults/report.ts';
import { provisionDapr } from './lib/dapr-runtime.ts';
import { ensureCommand } from './lib/infra.ts';
import { KUBERNETES_VERSION, provisionKubeBinaries } from './lib/kube-binaries.ts';
import { jaegerBinary } from './lib/observability.ts';
import { provisionSchemathesis } from './lib/schemathesis.ts';
import { type Profile, profiles, projectRoot } from './lib/stack.ts';
import { readFailures } from './lib/vitest-report.ts';

const vitest = join('node_modules', 'vitest', 'vitest.mjs');

/** The step running now, if any. */
let current: ChildProcess | undefined;

// Stopped from outside: the step stops first, its own way (vitest runs its teardown, which stops the
// servers it started), then this script, with no further step. A SIGTERM (`kill`, a CI timeout) reaches
// this process alone, so it is passed on; a terminal's Ctrl-C reaches the step's process group itself.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping the step that runs, then npm test`);
    const exit = () => process.exit(signal === 'SIGINT' ? 130 : 143);
    if (!current || current.exitCode !== null || current.signalCode !== null) return exit();
    current.once('close', exit);
    if (signal === 'SIGTERM') current.kill(signal);
  });
}

function run(step: string, args: string[], env: Record<string, string> = {}): Promise<boolean> {
  console.log(`\n▶ ${step}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: projectRoot,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    current = child;
    child.on('close', (code) => {
      if (current === child) current = undefined;
      resolve(code === 0);
    });
  });
}

/** The default matrix: every profile. TEST_PROFILES=embedded,redis-kafka picks some. */
const defaultMatrix: Profile[] = profiles;

function selectedProfiles(): Profile[] {
  const wanted = process.env.TEST_PROFILES?.split(',').map((p) => p.trim()) ?? defaultMatrix;
  const unknown = wanted.filter((p) => !profiles.includes(p as Profile));
  if (unknown.length > 0)
    throw new Error(`TEST_PROFILES: unknown ${unknown.join(', ')} (${profiles.join(', ')})`);
  return wanted as Profile[];
}

try {
  const matrix = selectedProfiles();
  console.log('▶ Dapr binaries');
  const started = Date.now();
  const binaries = await provisionDapr();
  console.log(
    `  daprd and scheduler ready in ${binaries.daprd.replace(/\/daprd$/, '')} (${Date.now() - started} ms)`,
  );
  // Before any test: the unit suite runs `jaeger validate`, and a first build (about 5 minutes) must not count against a test's timeout.
  console.log('\n▶ Jaeger v2 (built from the Go module proxy on first use)');
  console.log(`  ${await jaegerBinary((line) => console.log(`  ${line}`))}`);
  if (!(await run('Bundles (npm run build)', ['build.mjs']))) throw new Error('the build failed');
  console.log('\n▶ Schemathesis (the integration suite fuzzes the API with it)');
  console.log(`  ${await provisionSchemathesis((line) => console.log(`  ${line}`))}`);

  // The cluster tests' binaries (20–27 minutes cold, from the Go module proxy), built before any test runs.
  console.log(
    `\n▶ Kubernetes ${KUBERNETES_VERSION}, etcd, kwok and KEDA (built from the Go module proxy on first use)`,
  );
  const kubeStarted = Date.now();
  await provisionKubeBinaries({ log: (line) => console.log(`  ${line}`) });
  console.log(`  ready (${Date.now() - kubeStarted} ms)`);

  console.log("\n▶ Chromium (Debian's package; the browser test opens /docs in it)");
  console.log(`  ${await ensureCommand('chromium', 'chromium', (line) => console.log(`  ${line}`))}`);

  const extra = process.argv.slice(2);
  if (extra.length > 0) {
    if (!(await run(`vitest ${extra.join(' ')}`, [vitest, 'run', ...extra]))) process.exit(1);
    process.exit(0);
  }

  const results: Array<{ step: string; ok: boolean; seconds: number; report?: string }> = [];
  const timed = async (step: string, args: string[], env?: Record<string, string>, report?: string) => {
    const begun = Date.now();
    const ok = await run(step, args, env);
    results.push({ step, ok, seconds: (Date.now() - begun) / 1000, ...(report ? { report } : {}) });
  };
  // Each vitest step also writes its JSON report here, so the end of the log can say which test failed.
  const reports = await mkdtemp(join(tmpdir(), 'tasks-test-'));
  const vitestStep = (step: string, project: string, env?: Record<string, string>) => {
    const report = join(reports, `${step.replaceAll(/[^a-z0-9]+/gi, '-')}.json`);
    const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
    return timed(step, [vitest, 'run', '--project', project, ...reporters], env, report);
  };
  await vitestStep('unit tests', 'unit');
  for (const profile of matrix) {
    await vitestStep(`integration on ${profile}`, 'integration', { TEST_PROFILE: profile });
  }
  // The bench's smoke run, so that it cannot rot: every path with a few requests, no timing asserted; it
  // fails only when the bench throws or a cell got no successful request (the bundles are built above).
  for (const profile of matrix) {
    await timed(`bench smoke on ${profile}`, ['scripts/bench.ts', '--smoke', '--profile', profile]);
  }
  // One directory collects every profile's fault results (faults.json) for the table below.
  const faultsDir = await faultsRunDir();
  for (const profile of matrix) {
    await vitestStep(`faults on ${profile}`, 'faults', { TEST_PROFILE: profile, FAULTS_DIR: faultsDir });
  }

  await vitestStep('cluster (Kubernetes, KEDA)', 'cluster');

  console.log('\n  step                              result   time');
  for (const { step, ok, seconds } of results) {
    console.log(`  ${step.padEnd(34)}${(ok ? 'passed' : 'FAILED').padEnd(9)}${seconds.toFixed(1)} s`);
  }
  for (const { step, ok, report } of results) {
    if (ok || !report) continue;
    const failures = await readFailures(report, projectRoot);
    console.log(
      `\n  ${step} failed:${failures === undefined ? ' it wrote no report (see its output above)' : ''}`,
    );
    for (const [test, ...message] of failures ?? []) {
      console.log(`    ✗ ${test}`);
      for (const line of message) console.log(`        ${line}`);
    }
  }
  const faults = await readResults(faultsDir);
  if (faults.length > 0) {
    console.log(`\n  faults (${join(faultsDir, 'faults.json')}):\n${formatTable(faults)}`);
    if (faults.some((r) => !r.passed)) console.log(formatFailures(faults));
  }
  if (results.some((r) => !r.ok)) process.exit(1);
} catch (error) {
  console.error(`\n${(error as Error).message}`);
  process.exit(1);
}
