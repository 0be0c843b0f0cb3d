/**
 * npm run bench:overload: what the API does at several times the create
 * rate it can sustain (issue 12, point 5).
 *
 * 1. Starts a stack (embedded by default; `-- --profile redis-kafka`) from
 *    dist/all.mjs and measures the sustainable create rate: 2, 4, 8, 16 and
 *    32 clients at a time, each waiting for its answer (and for Retry-After
 *    when shed); the best rate of 201s of a level whose every answer was a
 *    201 or a shed (the ramp stops at the first level with anything else).
 * 2. Offers FACTOR (4) times that rate open-loop (a fixed arrival rate, so
 *    the load does not slow down with the API) for DURATION (30) seconds,
 *    with a 10 s client timeout; counts the answers by status, the 503/429s
 *    with Retry-After and the client timeouts, takes the answered requests'
 *    latency and samples the app's and daprd's RSS from /proc.
 * 3. Checks that nothing acknowledged is lost: every 201's task reads back
 *    with what was answered, and its activity shows its task.created
 *    (within 30 s).
 * 4. Does the same on a fresh stack with admission control off
 *    (MAX_INFLIGHT_REQUESTS=0) at the same offered rate: the behaviour before
 *    (waiting 10 s for its events; BASELINE=false skips it).
 * The app runs with APP_NODE_OPTIONS, by default the NODE_OPTIONS of the
 * tasks-api Deployment (deploy/base/apps/tasks-api.yaml): its heap, sized for
 * the container's 256 MiB. On this machine V8 would otherwise size the heap
 * for gigabytes, and the RSS would say nothing about the pod.
 * APP_NODE_OPTIONS= leaves V8's default for this machine.
 *   DURATION=30 FACTOR=4 npm run bench:overload [-- --profile redis-kafka]
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deployedMemoryLimits, deployedNodeOptions } from '../deploy/manifests.ts';
import { runtimeConfigSchema } from '../shared/config.ts';
import { testResources } from '../test/integration/resources.ts';
import { fmt, percentile } from './bench/report.ts';
import { Scope } from './lib/processes.ts';
import { freePorts, type Profile, profiles, projectRoot, type Stack, startStack } from './lib/stack.ts';

const { values: args } = parseArgs({ options: { profile: { type: 'string', default: 'embedded' } } });
const profile = args.profile as Profile;
if (!profiles.includes(profile)) throw new Error(`--profile ${profile} is not one of ${profiles.join(', ')}`);
const duration = Number(process.env.DURATION ?? 30);
const factor = Number(process.env.FACTOR ?? 4);
const baseline = process.env.BASELINE !== 'false';
const clientTimeoutMs = 10_000;
const rampLevels = [2, 4, 8, 16, 32];
const rampSeconds = 3;
/** The Deployment's memory limits of the app container and of daprd (deploy/base/apps/tasks-api.yaml). */
const memoryLimits = deployedMemoryLimits();
const nodeOptions = process.env.APP_NODE_OPTIONS ?? deployedNodeOptions();
/** The app's settings: its defaults, or what this script's environment (which the app inherits) sets. */
const settings = runtimeConfigSchema.parse({ ...process.env, APP_API_TOKEN: 'x'.repeat(16) });

interface Created {
  id: string;
  title: string;
}

interface Answer {
  status: number | 'timeout' | 'error';
  ms: number;
  /** Retry-After in seconds, 0 when absent. */
  retryAfter: number;
  problem: boolean;
  created?: Created;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function client(stack: Stack) {
  const headers = { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' };
  return {
    async create(title: string): Promise<Answer> {
      const sent = performance.now();
      try {
        const response = await fetch(`${stack.url}/tasks`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ title }),
          signal: AbortSignal.timeout(clientTimeoutMs),
        });
        const body = (await response.json()) as { id?: string; title?: string };
        return {
          status: response.status,
          ms: performance.now() - sent,
          retryAfter: Number(response.headers.get('retry-after') ?? 0),
          problem: response.headers.get('content-type') === 'application/problem+json',
          ...(response.status === 201 && body.id ? { created: { id: body.id, title } } : {}),
        };
      } catch (error) {
        const timeout = (error as Error).name === 'TimeoutError';
        return {
          status: timeout ? 'timeout' : 'error',
          ms: performance.now() - sent,
          retryAfter: 0,
          problem: false,
        };
      }
    },
    /**
     * A GET as a well-behaved client makes it: a 503 is retried after its
     * Retry-After, no answer (in 10 s) after 1 s; `stop` ends it, with status 0.
     */
    async read(path: string, stop: AbortSignal): Promise<{ status: number; body: unknown }> {
      for (let attempt = 1; ; attempt++) {
        const signal = AbortSignal.any([AbortSignal.timeout(clientTimeoutMs), stop]);
        const response = await fetch(`${stack.url}${path}`, { headers, signal }).catch(() => undefined);
        const body = await response?.json().catch(() => undefined);
        const status = body === undefined ? 0 : (response?.status ?? 0);
        if ((status !== 503 && status !== 0) || attempt === 10 || stop.aborted)
          return { status, body: body ?? {} };
        await sleep(1000 * Number(response?.headers.get('retry-after') ?? 1));
      }
    },
  };
}

/**
 * `concurrency` well-behaved clients creating for `seconds`, each waiting
 * for its answer and, after a 503 or 429, for its Retry-After: the rate of
 * 201s, the requests shed, and the answers that were neither.
 */
async function closedLoop(stack: Stack, concurrency: number, seconds: number) {
  const api = client(stack);
  const until = performance.now() + seconds * 1000;
  let ok = 0;
  let shed = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let n = 0; performance.now() < until; n++) {
        const answer = await api.create(`ramp ${concurrency}.${worker}.${n}`);
        if (answer.created) ok += 1;
        else if ((answer.status === 503 || answer.status === 429) && answer.retryAfter) {
          shed += 1;
          await sleep(answer.retryAfter * 1000);
        } else failed += 1;
      }
    }),
  );
  return { rate: ok / seconds, shed, failed };
}

/** `rate` creates per second for `seconds`, each sent on time whatever the earlier ones are doing. */
async function openLoop(stack: Stack, rate: number, seconds: number, label: string) {
  const api = client(stack);
  const answers: Promise<Answer>[] = [];
  const started = performance.now();
  for (;;) {
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed >= seconds) break;
    const due = Math.floor(elapsed * rate);
    while (answers.length < due) answers.push(api.create(`${label} ${answers.length}`));
    await sleep(5);
  }
  const sentFor = (performance.now() - started) / 1000;
  return { answers: await Promise.all(answers), sentFor };
}

/** Samples a process's resident memory (MiB) until stopped; keeps the peaks of all of it and of its anonymous part. */
function rssPeak(pid: number | undefined) {
  const peak = { rss: 0, anon: 0 };
  const sample = async () => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const mib = (field: string) =>
      Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm'))?.[1] ?? 0) / 1024;
    peak.rss = Math.max(peak.rss, mib('VmRSS'));
    peak.anon = Math.max(peak.anon, mib('RssAnon'));
  };
  const timer = setInterval(() => void sample(), 200);
  return {
    async stop() {
      clearInterval(timer);
      await sample();
      return peak;
    },
  };
}

/**
 * Reads every acknowledged task back and looks for its task.created in its
 * activity, again every 2 s for what is not there yet, for up to `settleMs` (the
 * writes and events the overload left behind are still being worked off).
 * What is still missing then is lost; `unread` says how its last read answered.
 * Reading stops 20 s after that: what was not read by then counts as unread.
 */
async function verify(stack: Stack, created: Created[], settleMs: number) {
  const api = client(stack);
  const concurrently = async (items: Created[], each: (task: Created) => Promise<boolean>) => {
    const left: Created[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let task = items[next++]; task; task = items[next++]) if (!(await each(task))) left.push(task);
      }),
    );
    return left;
  };
  const unread = new Map<string, number>();
  /** Activity reads of the last pass that got no answer. */
  let unanswered = 0;
  let unreadable = created;
  let missing = created;
  const until = Date.now() + settleMs;
  const stop = AbortSignal.timeout(settleMs + 20_000);
  for (;;) {
    unread.clear();
    unreadable = await concurrently(unreadable, async (task) => {
      const { status, body } = await api.read(`/tasks/${task.id}`, stop);
      const read = body as Partial<Created>;
      const ok = status === 200 && read.id === task.id && read.title === task.title;
      if (!ok) unread.set(String(status), (unread.get(String(status)) ?? 0) + 1);
      return ok;
    });
    unanswered = 0;
    missing = await concurrently(missing, async (task) => {
      const { status, body } = await api.read(`/tasks/${task.id}/activity`, stop);
      if (status === 0) unanswered += 1;
      return ((body as { entries?: Array<{ type: string }> }).entries ?? []).some(
        (entry) => entry.type === 'task.created',
      );
    });
    const done = unreadable.length === 0 && missing.length === 0;
    if (done || Date.now() > until || stop.aborted || stack.processes.app?.pid === undefined) break;
    await sleep(2000);
  }
  return {
    readable: created.length - unreadable.length,
    unread: [...unread]
      .map(([status, n]) => `${n}×${status === '0' ? 'no answer in time' : status}`)
      .join(' '),
    withEvent: created.length - missing.length,
    unanswered,
  };
}

/** requests_shed_total from the app's /metrics, by reason. */
async function shedTotals(stack: Stack): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${stack.ports.appMetrics}/metrics`)).text();
  const lines = [...text.matchAll(/^requests_shed_total\{reason="(\w+)"\} (\S+)$/gm)];
  return lines.map(([, reason, value]) => `${reason} ${value}`).join(', ') || '(none)';
}

interface Run {
  label: string;
  offered: number;
  sentFor: number;
  counts: Map<string, number>;
  retryAfter: number;
  problems: number;
  shedWithoutRetryAfter: number;
  accepted: number;
  ok: number[];
  shed: number[];
  appRss: { rss: number; anon: number };
  appExited: boolean;
  daprdRss: { rss: number; anon: number };
  readable: number;
  unread: string;
  appCpu: number;
  clientCpu: number;
  withEvent: number;
  unanswered: number;
  shedMetric: string;
}

async function start(workDir: string, appEnv: Record<string, string>) {
  await mkdir(workDir, { recursive: true });
  const resources = profile === 'embedded' ? {} : await testResources(profile, workDir);
  return startStack({
    scope,
    profile,
    workDir,
    ports: await freePorts(),
    ...resources,
    app: [process.execPath, join(projectRoot, 'dist', 'all.mjs')],
    appEnv: { ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), ...appEnv },
    log: () => {},
  });
}

async function overload(stack: Stack, label: string, rate: number, settleMs: number): Promise<Run> {
  const app = rssPeak(stack.processes.app?.pid);
  const daprd = rssPeak(stack.processes.daprd?.pid);
  const cpuBefore = [await stack.processes.app?.cpuMs(), process.cpuUsage()] as const;
  const { answers, sentFor } = await openLoop(stack, rate, duration, label);
  const appCpu = ((await stack.processes.app?.cpuMs()) ?? 0) - (cpuBefore[0] ?? 0);
  const { user, system } = process.cpuUsage(cpuBefore[1]);
  const clientCpu = (user + system) / 1000;
  const [appRss, daprdRss] = [await app.stop(), await daprd.stop()];
  const appExited = stack.processes.app?.pid === undefined;
  const counts = new Map<string, number>();
  for (const answer of answers)
    counts.set(String(answer.status), (counts.get(String(answer.status)) ?? 0) + 1);
  const shedAnswers = answers.filter((a) => a.status === 503 || a.status === 429);
  const created = answers.flatMap((a) => (a.created ? [a.created] : []));
  const latencies = (status: number) =>
    answers
      .filter((a) => a.status === status)
      .map((a) => a.ms)
      .sort((a, b) => a - b);
  step(`${answers.length} sent in ${sentFor.toFixed(1)} s; checking the ${created.length} acknowledged`);
  const { readable, unread, withEvent, unanswered } = await verify(stack, created, settleMs);
  return {
    label,
    offered: answers.length,
    sentFor,
    counts,
    retryAfter: shedAnswers.filter((a) => a.retryAfter > 0).length,
    problems: shedAnswers.filter((a) => a.problem).length,
    shedWithoutRetryAfter: shedAnswers.filter((a) => a.retryAfter === 0).length,
    accepted: created.length,
    ok: latencies(201),
    shed: [...latencies(503), ...latencies(429)].sort((a, b) => a - b),
    appRss,
    appExited,
    daprdRss,
    readable,
    unread,
    appCpu,
    clientCpu,
    withEvent,
    unanswered,
    shedMetric: await shedTotals(stack).catch(() => '(no answer)'),
  };
}

const began = performance.now();
/** A step's line, with the seconds since the script began. */
const step = (line: string) =>
  console.log(`▶ ${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s: ${line}`);
const workDir = await mkdtemp(join(tmpdir(), 'tasks-bench-overload-'));
// Owns every process the script starts: whatever fails, nothing is left running.
const scope = new Scope();
const runs: Run[] = [];
let sustainable = 0;
let sustainableAt = 0;
let failed = false;
try {
  const limits = `${settings.MAX_INFLIGHT_REQUESTS} running, ${settings.MAX_QUEUED_REQUESTS} waiting ≤ ${settings.MAX_QUEUE_WAIT_MS} ms`;
  step(`${profile}: admission control (${limits})`);
  const stack = await start(join(workDir, 'on'), {});
  try {
    for (const concurrency of rampLevels) {
      const { rate, shed, failed: errors } = await closedLoop(stack, concurrency, rampSeconds);
      console.log(
        `  closed loop, ${concurrency} at a time: ${rate.toFixed(0)} creates/s; ${shed} × 503 + Retry-After, ${errors} other`,
      );
      if (errors > 0) break;
      if (rate > sustainable) [sustainable, sustainableAt] = [rate, concurrency];
    }
    if (sustainable === 0) throw new Error('no level of the ramp had only 201s and 503s with Retry-After');
    step(`open loop: ${(factor * sustainable).toFixed(0)} creates/s for ${duration} s`);
    runs.push(await overload(stack, 'admission on', factor * sustainable, 30_000));
  } finally {
    await stack.stop();
  }
  if (baseline) {
    step('the same on a fresh stack, admission control off (MAX_INFLIGHT_REQUESTS=0)');
    const off = await start(join(workDir, 'off'), { MAX_INFLIGHT_REQUESTS: '0' });
    try {
      // Only to show what happens: a shorter wait for what it lost keeps the script's time down.
      runs.push(await overload(off, 'admission off', factor * sustainable, 10_000));
    } finally {
      await off.stop();
    }
  }

  const pct = (sorted: number[]) =>
    sorted.length === 0
      ? '-'
      : `${fmt(percentile(sorted, 50))} / ${fmt(percentile(sorted, 95))} / ${fmt(percentile(sorted, 99))} / ${fmt(sorted.at(-1) ?? Number.NaN)}`;
  const others = (run: Run) =>
    [...run.counts]
      .filter(([status]) => !['201', '503', '429', 'timeout', 'error'].includes(status))
      .map(([status, n]) => `${n}×${status}`)
      .join(' ') || '0';
  const rows: Array<[string, (run: Run) => string]> = [
    ['requests sent', (r) => `${r.offered} (${fmt(r.offered / r.sentFor / sustainable, 2)}× sustainable)`],
    ['201 Created', (r) => String(r.counts.get('201') ?? 0)],
    ['503', (r) => String(r.counts.get('503') ?? 0)],
    ['429', (r) => String(r.counts.get('429') ?? 0)],
    ['  of 503/429: Retry-After', (r) => `${r.retryAfter} (problem+json ${r.problems})`],
    ['other statuses', others],
    [`client timeouts (${clientTimeoutMs / 1000} s)`, (r) => String(r.counts.get('timeout') ?? 0)],
    ['connection errors', (r) => String(r.counts.get('error') ?? 0)],
    ['accepted rate / sustainable', (r) => fmt(r.accepted / r.sentFor / sustainable, 2)],
    ['201 ms p50/p95/p99/max', (r) => pct(r.ok)],
    ['503/429 ms p50/p95/p99/max', (r) => pct(r.shed)],
    [
      `app peak RSS (limit ${memoryLimits.app} MiB)`,
      (r) =>
        `${fmt(r.appRss.rss)} MiB, anonymous ${fmt(r.appRss.anon)}${r.appExited ? ' (the app died)' : ''}`,
    ],
    [
      `daprd peak RSS (limit ${memoryLimits.daprd} MiB)`,
      (r) => `${fmt(r.daprdRss.rss)} MiB, anonymous ${fmt(r.daprdRss.anon)}`,
    ],
    ['CPU s: app / load generator', (r) => `${fmt(r.appCpu / 1000, 1)} / ${fmt(r.clientCpu / 1000, 1)}`],
    ['201s read back as answered', (r) => `${r.readable} / ${r.accepted}${r.unread ? ` (${r.unread})` : ''}`],
    [
      '201s with task.created',
      (r) => `${r.withEvent} / ${r.accepted}${r.unanswered ? ` (${r.unanswered}×no answer in time)` : ''}`,
    ],
    ['requests_shed_total', (r) => r.shedMetric],
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  const column = 36;
  console.log(`
Overload, ${profile} profile (${(await readFile('/proc/cpuinfo', 'utf8')).match(/^processor/gm)?.length} cores, shared; the load generator runs on it too)
  sustainable create rate: ${fmt(sustainable)}/s (closed loop, ${sustainableAt} at a time: the best of ${rampLevels.join('/')} with only 201s and 503s + Retry-After, honoured)
  offered: ${fmt(factor * sustainable)}/s open loop for ${duration} s = ${factor}× sustainable
  app's NODE_OPTIONS: ${nodeOptions || "none (V8's default heap for this machine)"}
`);
  console.log(`  ${''.padEnd(width)}${runs.map((r) => r.label.padEnd(column)).join('')}`);
  for (const [name, value] of rows)
    console.log(`  ${name.padEnd(width)}${runs.map((r) => value(r).padEnd(column)).join('')}`);

  step('done');
  const on = runs[0] as Run;
  const check = (what: string, ok: boolean) => {
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failed = true;
  };
  console.log('\n  with admission control:');
  check('no client timed out', (on.counts.get('timeout') ?? 0) === 0 && (on.counts.get('error') ?? 0) === 0);
  check(
    'every answer is 201, or 503/429 with Retry-After',
    on.shedWithoutRetryAfter === 0 && others(on) === '0',
  );
  check(
    `the app's RSS stayed under ${memoryLimits.app} MiB`,
    on.appRss.rss < memoryLimits.app && !on.appExited,
  );
  check('every 201 reads back as answered', on.readable === on.accepted);
  check("every 201's task.created is in its activity", on.withEvent === on.accepted);
} finally {
  await scope.stop();
  if (failed) process.exitCode = 1;
  if (!process.env.KEEP_TEST_DATA && !failed) await rm(workDir, { recursive: true, force: true });
  else console.log(`  data and logs: ${workDir}`);
}
