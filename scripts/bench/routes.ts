/**
 * The routes section of `npm run bench` (issue 13, point 1): createTask,
 * getTask, listTasks and updateTask under closed-loop load (8, 32 and 64
 * clients, each sending its next request when its last is answered), side by
 * side with the floors measured on the same daprd and store in the same run:
 *  - daprd alone: the load generator makes the one daprd call the route
 *    needs (a state transaction upserting one key for create and update, a
 *    state get for getTask, a bulk get of 50 keys for listTasks);
 *  - daprd outbox (create and update): that transaction with daprd's own
 *    transactional outbox on, through a copy of the state store component
 *    (its cells run after all the others: see below);
 *  - bare Hono (scripts/bench/bare-hono.ts, its own process, the same node
 *    binary): Hono on @hono/node-server whose handler makes that same call.
 * Per cell: 2xx per second, p50 and p99 of the 2xx, the other answers by
 * status, client errors, the app's CPU per request (utime + stime of its
 * process tree from /proc), daprd's, and daprd's HTTP calls per request (its
 * dapr_http_server_request_count). A client answered 503 with Retry-After
 * waits for it, as a well-behaved client does.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { deployedNodeOptions } from '../../deploy/manifests.ts';
import { runtimeConfigSchema } from '../../shared/config.ts';
import { testResources } from '../../test/integration/resources.ts';
import { projectNodeFlags } from '../lib/image.ts';
import { freePort, httpOk, type Restartable, startProcess, untilReady } from '../lib/processes.ts';
import { freePorts, profileResources, projectRoot, type Stack, startStack } from '../lib/stack.ts';
import { taskRecord, upsertTransaction } from './record.ts';
import { fmt, percentile } from './report.ts';
import type { BenchContext, BenchSection, Section } from './section.ts';

const STORE = 'statestore';
const LIST_LIMIT = 50;
const CLIENT_TIMEOUT_MS = 10_000;
const targets = ['ours', 'bare Hono', 'daprd alone', 'daprd outbox'] as const;
/** The state store component of the floor with daprd's transactional outbox: the app's, with outbox metadata. */
const OUTBOX_STORE = `${STORE}-outbox`;
const OUTBOX_TOPIC = 'bench-outbox';

interface RouteRss {
  route: string;
  ours: { now: number; peak: number };
  bare: { now: number; peak: number };
}
type Target = (typeof targets)[number];

/** One request of a closed loop; `done` gets the body of a 2xx. */
interface Request {
  url: string;
  init?: RequestInit;
  done?: (body: string) => void;
}

/** What a route's request is for each target: the `n`th request of client `worker` of `clients`. */
type Requests = Record<Exclude<Target, 'daprd outbox'>, RequestOf> & { 'daprd outbox'?: RequestOf };
type RequestOf = (worker: number, n: number, clients: number) => Request;

interface Cell {
  route: string;
  clients: number;
  target: Target;
  seconds: number;
  ok: number;
  /** Latencies of the 2xx, ms, sorted. */
  latencies: number[];
  /** Answers that were not 2xx, by status. */
  statuses: Map<number, number>;
  /** Requests that got no answer: refused, reset, or none within CLIENT_TIMEOUT_MS. */
  errors: number;
  /** CPU ms of the app's process tree (ours or bare Hono's) per answered request; undefined for the daprd floors. */
  appCpu?: number;
  daprdCpu: number;
  daprdCalls?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `clients` clients, each sending its next request when its last is answered, for `seconds`. */
async function closedLoop(clients: number, seconds: number, next: (worker: number, n: number) => Request) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  const begun = performance.now();
  const until = begun + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, worker) => {
      for (let n = 0; performance.now() < until; n++) {
        const request = next(worker, n);
        const sent = performance.now();
        try {
          const response = await fetch(request.url, {
            ...request.init,
            signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
          });
          const body = await response.text();
          if (response.ok) {
            latencies.push(performance.now() - sent);
            request.done?.(body);
            continue;
          }
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const retryAfter = Number(response.headers.get('retry-after') ?? 0);
          if (response.status === 503 && retryAfter > 0)
            await sleep(Math.min(retryAfter * 1000, until - performance.now()));
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return {
    seconds: (performance.now() - begun) / 1000,
    latencies: latencies.sort((a, b) => a - b),
    statuses,
    errors,
  };
}

/** The sum of daprd's dapr_http_server_request_count: every HTTP call daprd has answered. */
async function daprdCalls(stack: Stack): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${stack.ports.daprMetrics}/metrics`)).text();
    let sum = 0;
    // A label's value may hold braces (a path template, `/v1.0/state/{storeName}`): the value follows the last `}`.
    for (const line of text.split('\n'))
      if (/^dapr_http_server_request_count[{ ]/.test(line))
        sum += Number(
          line
            .slice(line.lastIndexOf('}') + 1)
            .trim()
            .split(' ')[0],
        );
    return sum;
  } catch {
    return undefined;
  }
}

/** A process's resident set now and its peak since it started (VmRSS, VmHWM), in MiB. */
async function rssMiB(pid: number | undefined): Promise<{ now: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const mib = (field: string) =>
    Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm'))?.[1] ?? Number.NaN) / 1024;
  return { now: mib('VmRSS'), peak: mib('VmHWM') };
}

/**
 * A folder holding one component: the profile's state store (the first
 * component named STORE in `resourcesPaths`) as OUTBOX_STORE, with daprd's
 * transactional outbox on the profile's pub/sub. The app never uses it (it
 * makes no transactions); the outbox floor does.
 */
async function outboxStoreComponent(resourcesPaths: string[], dir: string): Promise<string> {
  for (const folder of resourcesPaths)
    for (const file of (await readdir(folder)).filter((name) => /\.ya?ml$/.test(name))) {
      const component = parse(await readFile(join(folder, file), 'utf8'));
      if (component?.kind !== 'Component' || component.metadata?.name !== STORE) continue;
      component.metadata.name = OUTBOX_STORE;
      component.spec.metadata = [
        ...(component.spec.metadata ?? []),
        { name: 'outboxPublishPubsub', value: 'pubsub' },
        { name: 'outboxPublishTopic', value: OUTBOX_TOPIC },
      ];
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `${OUTBOX_STORE}.yaml`), stringify(component));
      return dir;
    }
  throw new Error(`no component named ${STORE} in ${resourcesPaths.join(', ')}`);
}

/** The heap the app runs with in its pod (deploy/), for ours and bare Hono alike. */
const appNodeOptions = deployedNodeOptions();
/** The image's `node` flags (its CMD), for ours and bare Hono alike: the app runs as its container does. */
const appNodeFlags = projectNodeFlags();

async function startBareHono(
  ctx: BenchContext,
  stack: Stack,
): Promise<{ url: string; process: Restartable }> {
  const port = await freePort();
  const healthy = () => httpOk(`http://127.0.0.1:${port}/healthz`);
  const bare = startProcess(
    'bare-hono',
    process.execPath,
    [...appNodeFlags, join(projectRoot, 'scripts/bench/bare-hono.ts')],
    {
      scope: ctx.scope,
      cwd: projectRoot,
      env: {
        PORT: String(port),
        DAPR_HTTP_PORT: String(stack.ports.daprHttp),
        STATE_STORE: STORE,
        NODE_OPTIONS: appNodeOptions,
      },
      output: join(stack.logDir, 'bare-hono.log'),
      ready: healthy,
    },
  );
  await untilReady(bare, healthy);
  return { url: `http://127.0.0.1:${port}`, process: bare };
}

/** The admission limits the app runs with here: its defaults, or what this script's environment (which it inherits) sets. */
function admissionLimits(): string {
  const settings = runtimeConfigSchema.parse({ ...process.env, APP_API_TOKEN: 'x'.repeat(16) });
  return `${settings.MAX_INFLIGHT_REQUESTS} running + ${settings.MAX_QUEUED_REQUESTS} waiting requests, each waiting at most ${settings.MAX_QUEUE_WAIT_MS} ms`;
}

/** The pick of `ids` for the `n`th request of client `worker`: spread so that two clients rarely write one task. */
const pick = (ids: readonly string[], worker: number, n: number, clients: number) => {
  if (ids.length === 0) throw new Error('no task to read or change: every create failed');
  return ids[(worker + n * clients) % ids.length] as string;
};

export const routes: BenchSection = async (ctx) => {
  const levels = ctx.smoke ? [8] : [8, 32, 64];
  const seconds = ctx.smoke ? 1 : Number(process.env.BENCH_SECONDS ?? 5);
  const warmup = ctx.smoke ? 0 : 1;
  const settleMs = ctx.smoke ? 200 : 1000;
  const app = join(projectRoot, 'dist', 'all.mjs');
  if (!existsSync(app)) throw new Error(`${app} is missing: run npm run build (npm run bench does)`);

  await mkdir(ctx.workDir, { recursive: true });
  ctx.log(`starting the ${ctx.profile} stack (dist/all.mjs)`);
  const resources =
    ctx.profile === 'embedded'
      ? { resourcesPaths: profileResources(ctx.profile) }
      : await testResources(ctx.profile, ctx.workDir);
  const resourcesPaths = [
    ...resources.resourcesPaths,
    await outboxStoreComponent(resources.resourcesPaths, join(ctx.workDir, 'outbox-floor')),
  ];
  const stack = await startStack({
    scope: ctx.scope,
    profile: ctx.profile,
    workDir: ctx.workDir,
    ports: await freePorts(),
    ...resources,
    resourcesPaths,
    app: [process.execPath, ...appNodeFlags, app],
    appEnv: { NODE_OPTIONS: appNodeOptions },
    log: ctx.log,
  });
  const bare = await startBareHono(ctx, stack);
  const dapr = `http://127.0.0.1:${stack.ports.daprHttp}/v1.0/state/${STORE}`;
  const daprOutbox = `http://127.0.0.1:${stack.ports.daprHttp}/v1.0/state/${OUTBOX_STORE}`;
  const auth = { authorization: `Bearer ${stack.apiToken}` };
  const json = { 'content-type': 'application/json' };
  const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method: 'POST',
    headers: { ...json, ...headers },
    body: JSON.stringify(body),
  });
  const patch = (body: unknown): RequestInit => ({
    method: 'PATCH',
    headers: { ...json, ...auth },
    body: JSON.stringify(body),
  });
  const createBody = (worker: number, n: number) => ({
    title: `bench ${worker}.${n}`,
    description: 'A task of the routes benchmark',
    tags: ['bench'],
  });
  const taskKey = (id: string) => encodeURIComponent(`task|${id}`);

  /** Ids each target created, oldest first: what the reads and updates then use. */
  const created: Record<Target, string[]> = {
    ours: [],
    'bare Hono': [],
    'daprd alone': [],
    'daprd outbox': [],
  };
  const keep = (target: Target) => (body: string) =>
    created[target].push((JSON.parse(body) as { id: string }).id);
  /** A floor's create: a transaction upserting a new record, through `store` (a daprd state store URL). */
  const createFloor =
    (target: 'daprd alone' | 'daprd outbox', store: string): RequestOf =>
    (w, n) => {
      const id = randomUUID();
      const { value } = taskRecord(id, 1, createBody(w, n));
      return {
        url: `${store}/transaction`,
        init: post(upsertTransaction(`floor|${id}`, value)),
        done: () => created[target].push(id),
      };
    };
  /** A floor's update of a record the daprd alone floor created (the outbox floor may have made few). */
  const updateFloor =
    (store: string): RequestOf =>
    (w, n, c) => {
      const id = pick(created['daprd alone'], w, n, c);
      const { value } = taskRecord(id, 2, { title: `updated ${w}.${n}` });
      return { url: `${store}/transaction`, init: post(upsertTransaction(`floor|${id}`, value)) };
    };

  const plan: Array<{ route: string; path: string; requests: Requests }> = [
    {
      route: 'createTask',
      path: 'POST /tasks',
      requests: {
        ours: (w, n) => ({
          url: `${stack.url}/tasks`,
          init: post(createBody(w, n), auth),
          done: keep('ours'),
        }),
        'bare Hono': (w, n) => ({
          url: `${bare.url}/tasks`,
          init: post(createBody(w, n)),
          done: keep('bare Hono'),
        }),
        'daprd alone': createFloor('daprd alone', dapr),
        'daprd outbox': createFloor('daprd outbox', daprOutbox),
      },
    },
    {
      route: 'getTask',
      path: 'GET /tasks/{id}',
      requests: {
        ours: (w, n, c) => ({
          url: `${stack.url}/tasks/${pick(created.ours, w, n, c)}`,
          init: { headers: auth },
        }),
        // Both floors read the app's own records.
        'bare Hono': (w, n, c) => ({ url: `${bare.url}/tasks/${pick(created.ours, w, n, c)}` }),
        'daprd alone': (w, n, c) => ({ url: `${dapr}/${taskKey(pick(created.ours, w, n, c))}` }),
      },
    },
    {
      route: 'listTasks',
      path: `GET /tasks?limit=${LIST_LIMIT}`,
      requests: {
        ours: () => ({ url: `${stack.url}/tasks?limit=${LIST_LIMIT}`, init: { headers: auth } }),
        'bare Hono': () => ({ url: `${bare.url}/tasks?limit=${LIST_LIMIT}` }),
        'daprd alone': () => ({
          url: `${dapr}/bulk`,
          init: post({
            keys: created.ours.slice(0, LIST_LIMIT).map((id) => `task|${id}`),
            parallelism: 16,
          }),
        }),
      },
    },
    {
      route: 'updateTask',
      path: 'PATCH /tasks/{id}',
      requests: {
        ours: (w, n, c) => ({
          url: `${stack.url}/tasks/${pick(created.ours, w, n, c)}`,
          init: patch({ title: `updated ${w}.${n}` }),
        }),
        'bare Hono': (w, n, c) => ({
          url: `${bare.url}/tasks/${pick(created['bare Hono'], w, n, c)}`,
          init: patch({ title: `updated ${w}.${n}` }),
        }),
        'daprd alone': updateFloor(dapr),
        'daprd outbox': updateFloor(daprOutbox),
      },
    },
  ];

  const appProcess: Partial<Record<Target, Restartable | undefined>> = {
    ours: stack.processes.app,
    'bare Hono': bare.process,
  };
  const cells: Cell[] = [];
  const rss: RouteRss[] = [];
  const measure = async (route: string, clients: number, target: Target, request: RequestOf) => {
    const app = appProcess[target];
    // What the last cell left running (the app's publishes and intent releases after its answers) ends first.
    await sleep(settleMs);
    const before = {
      app: await app?.cpuMs(),
      daprd: (await stack.processes.daprd?.cpuMs()) ?? 0,
      calls: await daprdCalls(stack),
    };
    const loop = await closedLoop(clients, seconds, (w, n) => request(w, n, clients));
    const after = {
      app: await app?.cpuMs(),
      daprd: (await stack.processes.daprd?.cpuMs()) ?? 0,
      calls: await daprdCalls(stack),
    };
    const answered = loop.latencies.length + [...loop.statuses.values()].reduce((a, b) => a + b, 0);
    const per = (delta: number) => (answered === 0 ? Number.NaN : delta / answered);
    const cell: Cell = {
      route,
      clients,
      target,
      ...loop,
      ok: loop.latencies.length,
      ...(before.app === undefined || after.app === undefined ? {} : { appCpu: per(after.app - before.app) }),
      daprdCpu: per(after.daprd - before.daprd),
      ...(before.calls === undefined || after.calls === undefined
        ? {}
        : { daprdCalls: per(after.calls - before.calls) }),
    };
    ctx.log(
      `${route} ${target}, ${clients} clients: ${(cell.ok / cell.seconds).toFixed(0)}/s, ` +
        `p50 ${fmt(percentile(cell.latencies, 50), 1)} ms, ${others(cell)} other, ${cell.errors} errors`,
    );
    // daprd's outbox on pubsub.in-memory answers about one transaction a second: none may come back in time.
    if (cell.ok === 0 && target !== 'daprd outbox')
      throw new Error(
        `${route}, ${target}, ${clients} clients: no successful request (${others(cell)}, ${cell.errors} errors; logs: ${stack.logDir})`,
      );
    cells.push(cell);
  };
  for (const { route, requests } of plan) {
    // The daprd floors need no warm-up (no JIT), and the outbox floor's would only queue on pubsub.in-memory.
    for (const target of ['ours', 'bare Hono'] as const)
      if (warmup > 0) await closedLoop(8, warmup, (w, n) => requests[target](w, n, 8));
    for (const clients of levels)
      for (const target of targets) {
        const request = requests[target];
        if (request && target !== 'daprd outbox') await measure(route, clients, target, request);
      }
    rss.push({ route, ours: await rssMiB(stack.processes.app?.pid), bare: await rssMiB(bare.process.pid) });
  }
  // daprd's outbox last: on pubsub.in-memory the transactions a cell leaves behind go on at about one a
  // second, on the bus the app publishes to, and slowed every cell after them (503s at 64 clients).
  for (const { route, requests } of plan)
    for (const clients of levels) {
      const request = requests['daprd outbox'];
      if (request) await measure(route, clients, 'daprd outbox', request);
    }
  // The table in plan order: route, clients, target.
  const rank = (c: Cell) =>
    (plan.findIndex((p) => p.route === c.route) * 1000 + c.clients) * 10 + targets.indexOf(c.target);
  cells.sort((a, b) => rank(a) - rank(b));
  await bare.process.stop();
  await stack.stop();
  return [measured(cells, seconds, warmup), ratios(cells, rss, ctx)];
};

const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '-');
const others = (cell: Cell) =>
  [...cell.statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${n}×${status}`)
    .join(' ') || '0';

function measured(cells: Cell[], seconds: number, warmup: number): Section {
  return {
    title: "Routes: ours, bare Hono, daprd alone and daprd's outbox",
    columns: [
      'route',
      'clients',
      'target',
      'req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'client errors',
      'app CPU ms/req',
      'daprd CPU ms/req',
      'daprd calls/req',
    ],
    rows: cells.map((c) => [
      c.route,
      String(c.clients),
      c.target,
      fmt(c.ok / c.seconds),
      fmt(percentile(c.latencies, 50), 1),
      fmt(percentile(c.latencies, 99), 1),
      others(c),
      String(c.errors),
      fmt(c.appCpu, 2),
      fmt(c.daprdCpu, 2),
      fmt(c.daprdCalls, 1),
    ]),
    notes: [
      `Closed loop: each client sends its next request when its last is answered; ${seconds} s a cell ` +
        `(BENCH_SECONDS)${warmup > 0 ? `, after ${warmup} s of warm-up per route and target` : ''}. ` +
        'req/s counts 2xx answers; p50 and p99 are theirs. ' +
        `A client answered 503 with Retry-After waits for it (the app sheds past ${admissionLimits()}).`,
      '_ours_: dist/all.mjs, every function in one app, as `npm start` runs it. _bare Hono_: scripts/bench/bare-hono.ts, ' +
        'Hono on @hono/node-server with the same node binary, whose handler makes the one daprd call below and nothing else ' +
        '(no validation, auth, admission control, telemetry, logging, outbox or index). _daprd alone_: the load generator ' +
        "makes that call itself. _daprd outbox_: the same transaction through a copy of the app's state store component " +
        `(${OUTBOX_STORE}, the same store) with daprd's transactional outbox on (outboxPublishPubsub: pubsub, ` +
        `outboxPublishTopic: ${OUTBOX_TOPIC}): what a write with its event costs with Dapr's own outbox.`,
      `The call: createTask and updateTask POST /v1.0/state/${STORE}/transaction with one upsert of a record shaped like ` +
        "the app's (the task and its event); getTask GET /v1.0/state/" +
        `${STORE}/task|<id> of the app's tasks; listTasks POST /v1.0/state/${STORE}/bulk of ${LIST_LIMIT} of the app's keys.`,
      "daprd alone's transaction is only the state write; ours does more: an intent, an index entry (create) or a read " +
        "(update), the save, the publish and the intent's release (its own outbox, docs/EVENTS.md). daprd's outbox publishes " +
        'each transaction to an internal topic before it runs it (`PublishInternal`, pkg/api/http/http.go), and its handler of ' +
        'that topic sleeps a second per message (`defaultStateScanDelay`, pkg/runtime/pubsub/outbox.go, v1.18.2); ' +
        'pubsub.in-memory makes a publish wait for the delivery before it, so on the embedded profile it answers about one ' +
        'transaction a second, and a client gives up after 10 s (client errors). Its update floor writes the records of ' +
        "daprd alone's creates.",
      'CPU ms/req: utime + stime (from /proc) of the process tree over the cell, per answered request. daprd calls/req: the ' +
        "growth of daprd's dapr_http_server_request_count per answered request (background calls, such as the outbox " +
        'sweep, count too; each cell starts after a pause of its own, so that little of the previous one is left).',
    ],
  };
}

function ratios(cells: Cell[], rss: RouteRss[], ctx: BenchContext): Section {
  const find = (route: string, clients: number, target: Target) =>
    cells.find((c) => c.route === route && c.clients === clients && c.target === target);
  const rows: string[][] = [];
  for (const ours of cells.filter((c) => c.target === 'ours')) {
    const floor = find(ours.route, ours.clients, 'daprd alone');
    const bare = find(ours.route, ours.clients, 'bare Hono');
    const outbox = find(ours.route, ours.clients, 'daprd outbox');
    if (!floor || !bare) continue;
    const rate = (c: Cell) => c.ok / c.seconds;
    const p = (c: Cell, q: number) => percentile(c.latencies, q);
    rows.push([
      ours.route,
      String(ours.clients),
      ratio(rate(ours), rate(floor)),
      ratio(p(ours, 50), p(floor, 50)),
      ratio(p(ours, 99), p(floor, 99)),
      ...(outbox
        ? [
            ratio(rate(ours), rate(outbox)),
            ratio(p(ours, 50), p(outbox, 50)),
            ratio(p(ours, 99), p(outbox, 99)),
          ]
        : ['', '', '']),
      ratio(rate(ours), rate(bare)),
      ratio(p(ours, 50), p(bare, 50)),
      ratio(p(ours, 99), p(bare, 99)),
      `${fmt(ours.appCpu, 2)} / ${fmt(bare.appCpu, 2)} = ${ratio(ours.appCpu ?? Number.NaN, bare.appCpu ?? Number.NaN)}`,
    ]);
  }
  return {
    title: 'Routes: ratios, ours / floor',
    columns: [
      'route',
      'clients',
      'req/s ours/daprd',
      'p50 ours/daprd',
      'p99 ours/daprd',
      'req/s ours/outbox',
      'p50 ours/outbox',
      'p99 ours/outbox',
      'req/s ours/bare',
      'p50 ours/bare',
      'p99 ours/bare',
      'app CPU ms/req ours / bare',
    ],
    rows,
    notes: [
      'Below 1× for req/s and above 1× for latency and CPU is what the app costs over the floor. ' +
        "ours/daprd divides by daprd alone, ours/outbox by daprd's outbox (createTask and updateTask; - where it answered nothing in time).",
      `App RSS at the end of each route and its peak so far (VmHWM), MiB, ours / bare Hono: ${rss
        .map(
          (r) =>
            `${r.route} ${fmt(r.ours.now)} / ${fmt(r.bare.now)}, peak ${fmt(r.ours.peak)} / ${fmt(r.bare.peak)}`,
        )
        .join(
          '; ',
        )}. Both run with the NODE_OPTIONS of deploy/base's tasks-api Deployment (${appNodeOptions}), the heap for its memory limit, and with the image CMD's flags (${appNodeFlags.join(' ')}).`,
      ...(ctx.smoke
        ? ['A smoke run (--smoke): 1 s cells, 8 clients, no warm-up; its numbers mean nothing.']
        : []),
    ],
  };
}
