/**
 * The event part of `npm run bench` (issue 13, point 1): two tables.
 *
 * 1. Event delivery. The same handler (one state save through daprd's state
 *    API per event; scripts/bench/events-app.ts) behind our topic trigger
 *    (defineFunction + serve) and behind @dapr/dapr's DaprServer, bulk
 *    subscribe off and on: four variants, one after another, each an app of
 *    its own (app-id, topic, Kafka consumer group) on the same daprd build,
 *    components and broker. Each gets the same load, published through
 *    daprd's publish API with the send time in the event:
 *    - flood: FLOOD events at once (bulk publish, 100 an entry, 4 requests
 *      in flight); events/s = handled / (last saved − first published);
 *    - steady: RATE events/s for SECONDS, one publish each, open loop;
 *      p50/p99 of arrival at the handler − publish, and of saved − publish.
 * 2. End to end, on a stack running dist/all.mjs, twice: creates at E2E_RATE/s for
 *    E2E_SECONDS, open loop, then as fast as the API answers them (E2E_CLIENTS
 *    closed-loop clients for E2E_SECONDS); for each 201, when onTaskEvent had processed
 *    its task.created (the `handledAt` of its activity entry, read through
 *    daprd's state API); and whether events kept up: the backlog (answered, not
 *    yet processed) over the run, and the processed/answered ratio in the
 *    second half of it.
 * Alone: npx node scripts/bench/events.ts --profile embedded [--smoke]
 *   (npm run build first; FLOOD, RATE, SECONDS, E2E_RATE, E2E_SECONDS, E2E_CLIENTS override the sizes;
 *   EVENTS_PARTS, EVENTS_VARIANTS and EVENTS_APP_NODE_OPTIONS pick parts and variants, and profile them).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { activityKey } from '../../tasks/activity.ts';
import { TASK_EVENTS_DLQ } from '../../tasks/events.ts';
import { defaultInfraPorts, type InfraPorts, KAFKA_PARTITIONS, startInfra } from '../lib/infra.ts';
import { freePort, Scope } from '../lib/processes.ts';
import {
  freePorts,
  type Profile,
  profileResources,
  profileSpecs,
  profiles,
  projectRoot,
  type Stack,
  startStack,
} from '../lib/stack.ts';
import { nowMs } from '../lib/wall-clock.ts';
import type { BenchEvent, Handled } from './events-app.ts';
import { fmt, formatSection, percentile } from './report.ts';
import type { BenchContext, BenchSection, Section } from './section.ts';

const eventsApp = join(projectRoot, 'scripts', 'bench', 'events-app.ts');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const p50p99 = (values: number[], digits = 1) => {
  const s = sorted(values);
  return s.length === 0 ? '-' : `${fmt(percentile(s, 50), digits)} / ${fmt(percentile(s, 99), digits)}`;
};

interface Sizes {
  flood: number;
  rate: number;
  seconds: number;
  e2eRate: number;
  e2eSeconds: number;
  /** Closed-loop clients of the full-rate run: as many creates as the API answers. */
  e2eClients: number;
}

function sizes(smoke: boolean): Sizes {
  const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  return smoke
    ? { flood: 200, rate: 20, seconds: 2, e2eRate: 10, e2eSeconds: 2, e2eClients: 4 }
    : {
        flood: number('FLOOD', 5000),
        rate: number('RATE', 100),
        seconds: number('SECONDS', 10),
        e2eRate: number('E2E_RATE', 40),
        e2eSeconds: number('E2E_SECONDS', 20),
        e2eClients: number('E2E_CLIENTS', 32),
      };
}

/**
 * A copy of the profile's components with its servers on `infraPorts`;
 * `bindings: false` leaves out the cron input bindings, which would call
 * routes the benchmark's subscriber does not have.
 */
async function components(profile: Profile, dir: string, infraPorts: InfraPorts, bindings: boolean) {
  await mkdir(dir, { recursive: true });
  for (const folder of profileResources(profile)) await cp(folder, dir, { recursive: true });
  for (const file of await readdir(dir)) {
    const path = join(dir, file);
    const yaml = await readFile(path, 'utf8');
    if (!bindings && /type: bindings\.cron/.test(yaml)) {
      await rm(path);
      continue;
    }
    let moved = yaml;
    for (const server of ['redis', 'postgres', 'kafka'] as const)
      moved = moved
        .replaceAll(`127.0.0.1:${defaultInfraPorts[server]}`, `127.0.0.1:${infraPorts[server]}`)
        .replaceAll(`port=${defaultInfraPorts[server]} `, `port=${infraPorts[server]} `);
    await writeFile(path, moved);
  }
  return dir;
}

const cloudEvent = (phase: string, seq: number) => {
  const data: BenchEvent = { phase, seq, sentAt: nowMs() };
  return {
    specversion: '1.0',
    id: `${phase}-${seq}`,
    type: 'bench.event',
    source: 'bench',
    // One subject per event, as task creates have: our trigger may run them side by side.
    subject: `s-${seq}`,
    datacontenttype: 'application/json',
    data,
  };
};

/** Publishes through daprd's publish API: one event, or up to 100 in one bulk publish. */
function publisher(stack: Stack, topic: string) {
  const dapr = `http://127.0.0.1:${stack.ports.daprHttp}`;
  const check = async (response: Response, what: string) => {
    const text = await response.text();
    if (!response.ok) throw new Error(`${what}: ${response.status} ${text.slice(0, 300)}`);
  };
  return {
    async one(phase: string, seq: number) {
      const url = `${dapr}/v1.0/publish/pubsub/${topic}?metadata.partitionKey=s-${seq}`;
      const body = JSON.stringify(cloudEvent(phase, seq));
      const headers = { 'content-type': 'application/cloudevents+json' };
      await check(await fetch(url, { method: 'POST', headers, body }), 'publish');
    },
    async bulk(phase: string, seqs: number[]) {
      const entries = seqs.map((seq) => ({
        entryId: String(seq),
        event: cloudEvent(phase, seq),
        contentType: 'application/cloudevents+json',
        metadata: { partitionKey: `s-${seq}` },
      }));
      const url = `${dapr}/v1.0-alpha1/publish/bulk/pubsub/${topic}`;
      const init = { method: 'POST', headers: { 'content-type': 'application/json' } };
      await check(await fetch(url, { ...init, body: JSON.stringify(entries) }), 'bulk publish');
    },
  };
}

interface Variant {
  label: string;
  build: 'trigger' | 'dapr-sdk';
  bulk: boolean;
}

const variants: Variant[] = [
  { label: 'our topic trigger', build: 'trigger', bulk: false },
  { label: '@dapr/dapr DaprServer', build: 'dapr-sdk', bulk: false },
  { label: 'our topic trigger', build: 'trigger', bulk: true },
  { label: '@dapr/dapr DaprServer', build: 'dapr-sdk', bulk: true },
];

const variantName = (variant: Variant) => `bench-${variant.build}-${variant.bulk ? 'bulk' : 'single'}`;
const topicOf = (appId: string) => `${appId}-events`;

interface Delivery {
  variant: Variant;
  flood: { published: number; handled: number; perSecond: number; arrival: number[] };
  steady: {
    rate: number;
    published: number;
    handled: number;
    seconds: number;
    arrival: number[];
    saved: number[];
  };
  appCpuMs: number;
  daprdCpuMs: number;
}

/** What the app handled of a phase: the count alone, or every record. */
async function results(port: number, phase: string): Promise<Handled[]> {
  const response = await fetch(`http://127.0.0.1:${port}/results?phase=${phase}`);
  return (await response.json()) as Handled[];
}

async function handledCount(port: number, phase: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/results?phase=${phase}&count`);
  return ((await response.json()) as { count: number }).count;
}

/** Waits until `expected` distinct events of `phase` are handled, or nothing more came for `quietMs`. */
async function settle(port: number, phase: string, expected: number, quietMs = 15_000) {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const count = await handledCount(port, phase);
    if (count >= expected) return;
    if (count !== last) [last, since] = [count, Date.now()];
    else if (Date.now() - since > quietMs) return;
    await sleep(200);
  }
}

/** Distinct seqs only: a Kafka redelivery (a rebalance) must not count twice. */
const distinct = (handled: Handled[]) => [...new Map(handled.map((h) => [h[0], h])).values()];

async function measureVariant(
  ctx: BenchContext,
  variant: Variant,
  size: Sizes,
  setup: { resources: string; infraPorts: InfraPorts; run: string; serialBulk: boolean },
): Promise<Delivery> {
  const name = variantName(variant);
  const appId = `${name}-${setup.run}`;
  const topic = topicOf(appId);
  const workDir = join(ctx.workDir, 'events', name);
  await mkdir(workDir, { recursive: true });
  const resultsPort = await freePort();
  ctx.log(`[events] ${variant.label}, bulk ${variant.bulk ? 'on' : 'off'}: starting ${appId}`);
  const stack = await startStack({
    scope: ctx.scope,
    profile: ctx.profile,
    workDir,
    ports: await freePorts(),
    appId,
    resourcesPaths: [setup.resources],
    infraPorts: setup.infraPorts,
    servers: false,
    app: [process.execPath, eventsApp, variant.build],
    appEnv: {
      BENCH_TOPIC: topic,
      BENCH_RESULTS_PORT: String(resultsPort),
      PUBSUB_BULK: String(variant.bulk),
      // e.g. EVENTS_APP_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof": where the subscriber's time goes.
      ...(process.env.EVENTS_APP_NODE_OPTIONS ? { NODE_OPTIONS: process.env.EVENTS_APP_NODE_OPTIONS } : {}),
    },
    log: () => {},
  });
  try {
    const publish = publisher(stack, topic);
    // Warm up: connections, JIT, the consumer group's partitions assigned.
    const warm = 50;
    await publish.bulk(
      'warm',
      Array.from({ length: warm }, (_, i) => i),
    );
    await settle(resultsPort, 'warm', warm, 60_000);
    if ((await handledCount(resultsPort, 'warm')) < warm)
      throw new Error(`${appId}: the warm-up events were not all handled; logs: ${stack.logDir}`);

    const cpuBefore = [await stack.processes.app?.cpuMs(), await stack.processes.daprd?.cpuMs()];
    const floodSize = setup.serialBulk && variant.bulk ? Math.ceil(size.flood / 10) : size.flood;
    const chunks: number[][] = [];
    for (let seq = 0; seq < floodSize; seq += 100)
      chunks.push(Array.from({ length: Math.min(100, floodSize - seq) }, (_, i) => seq + i));
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let chunk = chunks[next++]; chunk; chunk = chunks[next++]) await publish.bulk('flood', chunk);
      }),
    );
    await settle(resultsPort, 'flood', floodSize);
    const flood = distinct(await results(resultsPort, 'flood'));
    const appCpuMs = ((await stack.processes.app?.cpuMs()) ?? 0) - (cpuBefore[0] ?? 0);
    const daprdCpuMs = ((await stack.processes.daprd?.cpuMs()) ?? 0) - (cpuBefore[1] ?? 0);
    const firstSent = Math.min(...flood.map((h) => h[1]));
    const lastSaved = Math.max(...flood.map((h) => h[3]));

    const perSecond = flood.length / ((lastSaved - firstSent) / 1000);
    // A rate this variant sustains: RATE, or half its flood rate when that is lower.
    const rate = Math.max(1, Math.min(size.rate, Math.floor(perSecond / 2)));
    const total = Math.round(rate * size.seconds);
    const sends: Promise<void>[] = [];
    const began = performance.now();
    while (sends.length < total) {
      const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * rate) + 1);
      while (sends.length < due) sends.push(publish.one('steady', sends.length));
      await sleep(2);
    }
    await Promise.all(sends);
    const sentFor = (performance.now() - began) / 1000;
    await settle(resultsPort, 'steady', total);
    const steady = distinct(await results(resultsPort, 'steady'));
    return {
      variant,
      flood: {
        published: floodSize,
        handled: flood.length,
        perSecond,
        arrival: flood.map((h) => h[2] - h[1]),
      },
      steady: {
        rate,
        published: total,
        handled: steady.length,
        seconds: sentFor,
        arrival: steady.map((h) => h[2] - h[1]),
        saved: steady.map((h) => h[3] - h[1]),
      },
      appCpuMs,
      daprdCpuMs,
    };
  } finally {
    await stack.stop();
  }
}

async function eventDelivery(
  ctx: BenchContext,
  size: Sizes,
  infraPorts: InfraPorts,
  run: string,
): Promise<Section> {
  const resources = await components(
    ctx.profile,
    join(ctx.workDir, 'events', 'components'),
    infraPorts,
    false,
  );
  const kafka = profileSpecs[ctx.profile].servers.some((server) => server === 'kafka');
  const measured: Delivery[] = [];
  // EVENTS_VARIANTS=bench-trigger-single,... measures some variants only (names as variantName gives them).
  const only = process.env.EVENTS_VARIANTS?.split(',');
  for (const variant of variants.filter((v) => !only || only.includes(variantName(v))))
    measured.push(
      await measureVariant(ctx, variant, size, { resources, infraPorts, run, serialBulk: !kafka }),
    );
  if (ctx.smoke)
    for (const m of measured)
      if (m.flood.handled < m.flood.published || m.steady.handled < m.steady.published)
        throw new Error(
          `events: ${m.variant.label} (bulk ${m.variant.bulk}) handled ${m.flood.handled}/${m.flood.published} flood, ${m.steady.handled}/${m.steady.published} steady`,
        );

  const ratio = (bulk: boolean) => {
    const of = (build: Variant['build']) =>
      measured.find((m) => m.variant.build === build && m.variant.bulk === bulk)?.flood.perSecond ??
      Number.NaN;
    return of('trigger') / of('dapr-sdk');
  };
  const broker = kafka ? `Kafka, topics of ${KAFKA_PARTITIONS} partitions` : 'pubsub.in-memory';
  return {
    title: `Event delivery, ${ctx.profile} (${broker}): our topic trigger vs @dapr/dapr's DaprServer, one state save per event`,
    columns: [
      'subscriber',
      'bulk',
      'flood: handled / published',
      'flood events/s',
      'flood arrival ms p50 / p99',
      'steady: events/s, handled / published',
      'steady arrival ms p50 / p99',
      'steady saved ms p50 / p99',
      'CPU s (flood): app / daprd',
    ],
    rows: [
      ...measured.map((m) => [
        m.variant.label,
        m.variant.bulk ? 'on' : 'off',
        `${m.flood.handled} / ${m.flood.published}`,
        fmt(m.flood.perSecond),
        p50p99(m.flood.arrival, 0),
        `${m.steady.rate}/s, ${m.steady.handled} / ${m.steady.published}`,
        p50p99(m.steady.arrival),
        p50p99(m.steady.saved),
        `${fmt(m.appCpuMs / 1000, 1)} / ${fmt(m.daprdCpuMs / 1000, 1)}`,
      ]),
      ['ours ÷ DaprServer, events/s', 'off', '', fmt(ratio(false), 2), '', '', '', '', ''],
      ['ours ÷ DaprServer, events/s', 'on', '', fmt(ratio(true), 2), '', '', '', '', ''],
    ],
    notes: [
      `flood: ${size.flood} events published at once (bulk publish API, 100 an entry, 4 requests in flight); events/s = handled / (last saved − first published); its arrival latency is mostly the queue.`,
      `steady: ${size.rate} events/s (or half the variant's flood rate, if lower) for ${size.seconds} s, one publish each, open loop; "arrival" = handler entered − published, "saved" = its state save answered − published.`,
      ...(kafka
        ? []
        : [
            "pubsub.in-memory runs a topic's deliveries one at a time (its event bus is transactional), and daprd's default bulk subscriber makes each wait for its batch's flush: with bulk on, every batch holds one event and waits up to 40 ms. So bulk is off on the embedded profile (no PUBSUB_BULK), and the bulk-on floods here are a tenth the size.",
          ]),
      'Each variant is an app of its own (app-id, topic, consumer group) with the same handler (scripts/bench/events-app.ts), run one after another on the same daprd build, components and broker; bulk = 100 events or 40 ms, as our trigger asks.',
      "One subject per event (as creates have): our bulk route runs different subjects' entries side by side, DaprServer runs a bulk's entries one after another.",
      ...(kafka
        ? [
            `Kafka: each topic has ${KAFKA_PARTITIONS} partitions; daprd's consumer hands the app one message (bulk off) or one batch (bulk on) per partition at a time, so at most ${KAFKA_PARTITIONS} deliveries are in flight.`,
          ]
        : []),
    ],
  };
}

interface Create {
  sentAt: number;
  answeredAt: number;
  status: number | 'error';
  id?: string;
}

/** How the end-to-end run sends its creates: open loop at a rate, or closed loop by a number of clients. */
type Load = { rate: number; seconds: number } | { clients: number; seconds: number };

const describeLoad = (load: Load) =>
  'rate' in load
    ? `${load.rate} creates/s (open loop)`
    : `${load.clients} closed-loop clients (the API's full rate)`;

/**
 * Creates for `load.seconds`: at `load.rate`/s, each sent on time whatever the earlier ones are
 * doing, or by `load.clients` clients that each send the next as soon as the last is answered.
 */
async function createUnder(stack: Stack, load: Load) {
  const headers = { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' };
  let sent = 0;
  const create = async (): Promise<Create> => {
    const n = sent++;
    const sentAt = nowMs();
    try {
      const response = await fetch(`${stack.url}/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: `bench event ${n}` }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json()) as { id?: string };
      return { sentAt, answeredAt: nowMs(), status: response.status, ...(body.id ? { id: body.id } : {}) };
    } catch {
      return { sentAt, answeredAt: nowMs(), status: 'error' };
    }
  };
  const began = performance.now();
  const elapsed = () => (performance.now() - began) / 1000;
  if ('clients' in load) {
    const client = async () => {
      const mine: Create[] = [];
      while (elapsed() < load.seconds) mine.push(await create());
      return mine;
    };
    return (await Promise.all(Array.from({ length: load.clients }, client))).flat();
  }
  const total = Math.round(load.rate * load.seconds);
  const creates: Promise<Create>[] = [];
  while (creates.length < total) {
    const due = Math.min(total, Math.floor(elapsed() * load.rate) + 1);
    while (creates.length < due) creates.push(create());
    await sleep(2);
  }
  return Promise.all(creates);
}

/** When onTaskEvent processed each task's task.created (epoch ms), read until all are there or `ms` passed. */
async function processedTimes(stack: Stack, ids: string[], ms: number): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const deadline = Date.now() + ms;
  for (;;) {
    const missing = ids.filter((id) => !found.has(id));
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const response = await fetch(`http://127.0.0.1:${stack.ports.daprHttp}/v1.0/state/statestore/bulk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keys: chunk.map(activityKey), parallelism: 16 }),
      });
      const items = (await response.json()) as Array<{
        key: string;
        data?: { entries?: Array<{ eventId: string; handledAt?: string }> };
      }>;
      const byKey = new Map(items.map((item) => [item.key, item.data?.entries ?? []]));
      for (const id of chunk) {
        // A create's event is its task's first write: its id is `<task id>:1` (tasks/task-store.ts writeEvent).
        const at = byKey.get(activityKey(id))?.find((e) => e.eventId === `${id}:1`)?.handledAt;
        if (at) found.set(id, Date.parse(at));
      }
    }
    if (found.size === ids.length || Date.now() > deadline) return found;
    await sleep(1000);
  }
}

async function endToEnd(ctx: BenchContext, load: Load, infraPorts: InfraPorts): Promise<Section> {
  const bundle = join(projectRoot, 'dist', 'all.mjs');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: npm run build first`);
  const workDir = join(ctx.workDir, 'events', 'rate' in load ? 'e2e-rate' : 'e2e-clients');
  const resources = await components(ctx.profile, join(workDir, 'components'), infraPorts, true);
  ctx.log(`[events] end to end: a stack running dist/all.mjs, ${describeLoad(load)} for ${load.seconds} s`);
  const stack = await startStack({
    scope: ctx.scope,
    profile: ctx.profile,
    workDir,
    ports: await freePorts(),
    resourcesPaths: [resources],
    infraPorts,
    servers: false,
    app: [process.execPath, bundle],
    log: () => {},
  });
  let creates: Create[];
  let processed: Map<string, number>;
  try {
    creates = await createUnder(stack, load);
    const ids = creates.flatMap((c) => (c.status === 201 && c.id ? [c.id] : []));
    processed = await processedTimes(stack, ids, 60_000);
  } finally {
    await stack.stop();
  }
  const accepted = creates.filter((c) => c.status === 201 && c.id);
  const done = accepted.flatMap((c) => {
    const at = processed.get(c.id as string);
    return at === undefined ? [] : [{ ...c, processedAt: at }];
  });
  // Open loop, every create must be answered 201; closed loop at the full rate, a 503 is the API holding back.
  const expected = 'rate' in load ? creates.length : Math.max(1, accepted.length);
  if (ctx.smoke && done.length < expected)
    throw new Error(`events end to end: ${done.length} of ${expected} creates processed`);

  // The backlog at an instant: creates answered by then whose event was not processed by then.
  const first = Math.min(...accepted.map((c) => c.sentAt));
  const last = Math.max(...accepted.map((c) => c.answeredAt));
  const backlogAt = (t: number) =>
    accepted.filter((c) => c.answeredAt <= t).length - done.filter((c) => c.processedAt <= t).length;
  const at = (fraction: number) => first + fraction * (last - first);
  const mid = at(0.5);
  const answeredLate = accepted.filter((c) => c.answeredAt > mid && c.answeredAt <= last).length;
  const processedLate = done.filter((c) => c.processedAt > mid && c.processedAt <= last).length;
  const keepUp = processedLate / answeredLate;
  const drained = Math.max(...done.map((c) => c.processedAt)) - last;
  const statuses = new Map<string, number>();
  for (const c of creates) statuses.set(String(c.status), (statuses.get(String(c.status)) ?? 0) + 1);
  // Half a second of creates at the rate the run had.
  const slack = (accepted.length / Math.max(1e-3, (last - first) / 1000)) * 0.5;
  const growing = backlogAt(last) > 2 * backlogAt(mid) + slack;

  return {
    title: `End to end, ${ctx.profile}, ${describeLoad(load)}: POST /tasks answered → onTaskEvent done (dist/all.mjs)`,
    columns: ['measure', 'value'],
    rows: [
      [
        'creates sent',
        `${creates.length} in ${load.seconds} s (${fmt(creates.length / load.seconds)}/s), ${describeLoad(load)}`,
      ],
      ['answers', [...statuses].map(([status, n]) => `${n}×${status}`).join(' ')],
      ['201s processed by onTaskEvent', `${done.length} / ${accepted.length}`],
      ['POST /tasks answer ms p50 / p99', p50p99(creates.map((c) => c.answeredAt - c.sentAt))],
      ['answered → onTaskEvent done ms p50 / p99', p50p99(done.map((c) => c.processedAt - c.answeredAt))],
      ['sent → onTaskEvent done ms p50 / p99', p50p99(done.map((c) => c.processedAt - c.sentAt))],
      [
        'backlog (answered, not processed) at 25/50/75/100% of the run',
        [0.25, 0.5, 0.75, 1].map((f) => String(backlogAt(at(f)))).join(' / '),
      ],
      ['processed ÷ answered in the second half', fmt(keepUp, 2)],
      ['last processed after the last answer, ms', fmt(drained)],
      ['events keep up with the writes', growing || keepUp < 0.9 ? 'no: the backlog grows' : 'yes'],
    ],
    notes: [
      "onTaskEvent done = the `handledAt` of the create's entry (event id `<task id>:1`) in the task's activity (task-activity|<task id>, written after the event's work), read through daprd's state API; its clock is the machine's, with ms resolution, so a latency under 1 ms reads as 0 or -1.",
      'keeping up: the backlog at the end of the run is not more than twice that at its middle (plus half a second of creates), and the second half processed at least 0.9 of what it answered.',
    ],
  };
}

/** The event tables: delivery (our trigger vs DaprServer), then end to end. */
export const events: BenchSection = async (ctx) => {
  const size = sizes(ctx.smoke);
  const servers = profileSpecs[ctx.profile].servers;
  const run = Date.now().toString(36);
  let infraPorts = defaultInfraPorts;
  if (servers.length > 0) {
    infraPorts = {
      redis: await freePort(),
      postgres: await freePort(),
      kafka: await freePort(),
      kafkaController: await freePort(),
    };
    const dataDir = join(ctx.workDir, 'events', 'infra');
    // The topics up front (the variants', and the app's as a deployment has them), with the
    // partitions of every topic the broker creates.
    const topics = Object.fromEntries(
      [
        ...variants.map((variant) => topicOf(`${variantName(variant)}-${run}`)),
        'task-events',
        TASK_EVENTS_DLQ,
      ].map((topic) => [topic, KAFKA_PARTITIONS]),
    );
    await startInfra(ctx.scope, servers, dataDir, infraPorts, ctx.log, topics);
  }
  // EVENTS_PARTS=delivery or EVENTS_PARTS=e2e runs one of the two tables.
  const parts = process.env.EVENTS_PARTS?.split(',') ?? ['delivery', 'e2e'];
  const sections: Section[] = [];
  if (parts.includes('delivery')) sections.push(await eventDelivery(ctx, size, infraPorts, run));
  if (parts.includes('e2e')) {
    sections.push(await endToEnd(ctx, { rate: size.e2eRate, seconds: size.e2eSeconds }, infraPorts));
    sections.push(await endToEnd(ctx, { clients: size.e2eClients, seconds: size.e2eSeconds }, infraPorts));
  }
  return sections;
};

if (import.meta.main) {
  const { values } = parseArgs({
    options: { profile: { type: 'string', default: 'embedded' }, smoke: { type: 'boolean', default: false } },
  });
  const profile = values.profile as Profile;
  if (!profiles.includes(profile))
    throw new Error(`--profile ${profile} is not one of ${profiles.join(', ')}`);
  const workDir = await mkdtemp(join(tmpdir(), 'tasks-bench-events-'));
  const scope = new Scope();
  let failed = false;
  try {
    const began = performance.now();
    const log = (line: string) =>
      console.log(`▶ ${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s: ${line}`);
    for (const section of await events({ profile, smoke: values.smoke, scope, workDir, log }))
      console.log(`\n${formatSection(section)}\n`);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await scope.stop();
    if (!failed && !process.env.KEEP_TEST_DATA) await rm(workDir, { recursive: true, force: true });
    else console.log(`  data and logs: ${workDir}`);
  }
}
