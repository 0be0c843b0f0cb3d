import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allFunctions } from '../../apps.ts';
import { projectRoot } from '../../scripts/lib/stack.ts';
import { TASK_EVENTS_DLQ } from '../../tasks/events.ts';
import { newSeed, Random, seedFromEnv } from '../faults/prng.ts';
import {
  envelopeJson,
  hostileBindingBodies,
  hostileData,
  hostileEnvelopes,
  hostileJobData,
  type PayloadClass,
} from '../hostile-events.ts';
import { api, eventually, sleep, stack } from './client.ts';

/**
 * The event side fuzzed: hostile CloudEvents published through daprd to every
 * topic the app subscribes to, hostile jobs scheduled through daprd's Jobs API
 * and hostile input-binding calls, from a seeded PRNG (FUZZ_SEED replays a run).
 * Each delivery must end handled, or dropped with a logged reason (to the
 * dead-letter topic where the subscription has one), or retried a bounded
 * number of times; the app stays up and nothing keeps looping.
 *
 * What happened to each message is read from its trace in Jaeger: every
 * publish carries a traceparent of its own, and the app records every
 * invocation as a span with its outcome (faas.outcome).
 */

interface Subscription {
  pubsubname: string;
  topic: string;
  route: string;
  deadLetterTopic?: string;
}

interface JaegerSpan {
  traceID: string;
  operationName: string;
  startTime: number;
  tags: Array<{ key: string; value: unknown }>;
}

/** One publish, and what became of it. */
interface Message {
  label: string;
  class: PayloadClass | 'envelope';
  subscription: Subscription;
  traceId: string;
  /** The CloudEvent id we set (the envelope form); daprd makes one for raw data. */
  id?: string;
  publishStatus?: number;
  publishAnswer?: string;
  /** The spans of the subscription's function, oldest first. */
  deliveries: JaegerSpan[];
  /** The spans of the dead-letter topic's function. */
  deadLettered: JaegerSpan[];
  done?:
    | 'handled'
    | 'dropped'
    | 'dead-lettered'
    | 'refused by daprd'
    | 'expired in daprd'
    | 'lost after retries';
}

const seed = seedFromEnv(process.env.FUZZ_SEED, 'FUZZ_SEED') ?? newSeed();
/**
 * A message stays under Kafka's default 1 MB limit (the broker's, not daprd's
 * 4 MiB), and its JSON within the 10,000 levels daprd's decoder takes (it
 * accepts a deeper raw body, then cannot read its dead letter back).
 */
const options = { hugeChars: 900_000, depth: 9_990 };
/** GET /dead-letters keeps the newest 100: messages are checked in chunks that fit. */
const CHUNK = 60;
const SETTLE_MS = 150_000;

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
const outcome = (span: JaegerSpan | undefined) => (span ? String(tag(span, 'faas.outcome')) : undefined);
const functionOf = (s: Subscription) => s.route.replace(/^\/events\//, '');
const daprdUrl = () => `http://127.0.0.1:${stack().daprHttp}`;

/** daprd's inbound retries of a delivery (components/common/resiliency.yaml): a delivery runs at most 1 + this. */
async function maxDeliveryRetries(): Promise<number> {
  const spec = parse(await readFile(join(projectRoot, 'components/common/resiliency.yaml'), 'utf8'));
  const policy = spec.spec.targets.components.pubsub.inbound.retry;
  return Number(spec.spec.policies.retries[policy].maxRetries);
}

async function jaegerSpans(traceId: string): Promise<JaegerSpan[]> {
  const response = await fetch(`${stack().jaeger}/api/traces/${traceId}`);
  if (!response.ok) return [];
  const body = (await response.json()) as { data?: Array<{ spans: JaegerSpan[] }> };
  return (body.data ?? []).flatMap((trace) => trace.spans);
}

/** Spans of `operation` whose tag `key` is `value`, in any trace of the last hour. */
async function jaegerSpansTagged(operation: string, key: string, value: string): Promise<JaegerSpan[]> {
  const query = new URLSearchParams({
    service: 'tasks',
    operation,
    tags: JSON.stringify({ [key]: value }),
    lookback: '1h',
    limit: '50',
  });
  const response = await fetch(`${stack().jaeger}/api/traces?${query}`);
  const body = (await response.json()) as { data?: Array<{ spans: JaegerSpan[] }> };
  return (body.data ?? []).flatMap((trace) => trace.spans).filter((s) => tag(s, key) === value);
}

/** The app's JSON log lines, by trace id. */
async function logByTrace(): Promise<Map<string, Array<Record<string, unknown>>>> {
  const byTrace = new Map<string, Array<Record<string, unknown>>>();
  for (const line of await appLogLines()) {
    const traceId = line.trace_id;
    if (typeof traceId !== 'string') continue;
    byTrace.set(traceId, [...(byTrace.get(traceId) ?? []), line]);
  }
  return byTrace;
}

async function appLogLines(): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(stack().logDir, 'app.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The app's (or daprd's) Prometheus text, as sample name{labels} → value. */
async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (match?.[1] && match[2]) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

/** faas_invocations_total summed by function and trigger. */
async function invocationCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [sample, value] of await scrape(stack().appMetrics)) {
    const match = /^faas_invocations_total\{.*\}$/.test(sample) ? sample : undefined;
    if (!match) continue;
    const fn = /function="([^"]*)"/.exec(sample)?.[1];
    const trigger = /trigger="([^"]*)"/.exec(sample)?.[1];
    const key = `${fn} ${trigger}`;
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
}

const traceparent = (traceId: string) => `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

async function publish(message: Message, body: string, contentType: string) {
  const { pubsubname, topic } = message.subscription;
  try {
    const response = await fetch(`${daprdUrl()}/v1.0/publish/${pubsubname}/${topic}`, {
      method: 'POST',
      headers: { 'content-type': contentType, traceparent: traceparent(message.traceId) },
      body,
    });
    message.publishStatus = response.status;
    message.publishAnswer = (await response.text()).slice(0, 300);
  } catch (error) {
    // daprd 1.18 panics on a CloudEvent body of `null` (its HTTP server recovers and closes the connection).
    message.publishStatus = 0;
    message.publishAnswer = `daprd closed the connection: ${(error as Error).cause ?? error}`;
  }
}

/** The ids of the events daprd dropped itself, before delivery, as expired (the `expiration` attribute). */
async function expiredByDaprd(): Promise<Set<string>> {
  const text = await readFile(join(stack().logDir, 'daprd.log'), 'utf8');
  return new Set([...text.matchAll(/dropping expired pub\/sub event (\S+) as of/g)].map((m) => m[1] ?? ''));
}

/** Runs `work` on every item, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

/**
 * Every message of the corpus for one subscription, each with a body to
 * publish: each data payload raw (daprd wraps it) and in a CloudEvent of
 * ours, each odd envelope around a task no one created, and bodies that
 * are not CloudEvents at all though they say so.
 */
function messagesFor(subscription: Subscription, random: Random) {
  const out: Array<{ message: Message; body: string; contentType: string; alone?: true }> = [];
  const add = (
    label: string,
    cls: Message['class'],
    body: string,
    contentType: string,
    id?: string,
    alone?: true,
  ) =>
    out.push({
      ...(alone ? { alone } : {}),
      message: {
        label: `${subscription.topic}: ${label}`,
        class: cls,
        subscription,
        traceId: randomBytes(16).toString('hex'),
        ...(id ? { id } : {}),
        deliveries: [],
        deadLettered: [],
      },
      body,
      contentType,
    });
  const data = hostileData(random, options);
  for (const [n, payload] of data.entries()) {
    add(`${payload.name} (raw)`, payload.class, payload.json, 'application/json');
    const id = `fuzz-${seed}-${subscription.topic}-${n}`;
    const type = JSON.stringify(
      random.pick(['task.created', 'task.updated', 'task.deleted', 'task.reminder']),
    );
    add(
      `${payload.name} (CloudEvent)`,
      payload.class,
      envelopeJson(id, { type }, payload.json),
      'application/cloudevents+json',
      id,
    );
  }
  const task = data.find((payload) => payload.class === 'unknown task')?.json;
  for (const [n, envelope] of hostileEnvelopes(random, options).entries()) {
    const id = `odd-${seed}-${subscription.topic}-${n}`;
    add(
      envelope.name,
      envelope.class,
      envelopeJson(id, envelope.attributes, task),
      'application/cloudevents+json',
      id,
      envelope.alone,
    );
  }
  for (const body of ['[]', '42', 'null', '"a string"', '{"data":{}}', '{"specversion":'])
    add(`a CloudEvent body of ${body}`, 'envelope', body, 'application/cloudevents+json');
  return out;
}

describe('the event side fuzzed', () => {
  it(`every hostile event, job and binding call is handled, dropped with a reason or retried a bounded number of times (seed ${seed})`, async () => {
    console.log(`event fuzz: seed ${seed} (FUZZ_SEED=${seed} replays this set)`);
    const random = new Random(seed);
    const { url, appToken } = stack();
    const retries = await maxDeliveryRetries();

    // The topics, as daprd reads them from the app; each one daprd has subscribed.
    const subscriptions = (await (
      await fetch(`${url}/dapr/subscribe`, { headers: { 'dapr-api-token': appToken } })
    ).json()) as Subscription[];
    const metadata = (await (await fetch(`${daprdUrl()}/v1.0/metadata`)).json()) as {
      subscriptions: Subscription[];
    };
    const active = new Set(metadata.subscriptions.map((s) => `${s.pubsubname}/${s.topic}`));
    expect(subscriptions.length).toBeGreaterThan(0);
    expect(subscriptions.filter((s) => !active.has(`${s.pubsubname}/${s.topic}`))).toEqual([]);
    const consumerOf = (topic: string | undefined) => subscriptions.find((s) => s.topic === topic);

    const messages: Message[] = [];
    const all = subscriptions.flatMap((s) => messagesFor(s, random));
    // In chunks, then each message that must be alone in its bulk on its own.
    const planned = all.filter((p) => !p.alone);
    const chunks = Array.from({ length: Math.ceil(planned.length / CHUNK) }, (_, n) =>
      planned.slice(n * CHUNK, (n + 1) * CHUNK),
    );
    chunks.push(...all.filter((p) => p.alone).map((p) => [p]));
    for (const chunk of chunks) {
      await pool(chunk, 8, ({ message, body, contentType }) => publish(message, body, contentType));
      const chunkMessages = chunk.map((p) => p.message);
      messages.push(...chunkMessages);
      await settleMessages(chunkMessages, consumerOf, retries);
      // What the dead-letter topic's function recorded is listed by GET /dead-letters (the newest 100).
      const response = await api('GET', '/dead-letters');
      expect(response.status).toBe(200);
      const listed = (await response.json()).items as Array<Record<string, string>>;
      const traces = new Set(listed.map((item) => item.traceId));
      const ids = new Set(listed.map((item) => item.eventId));
      const unlisted = chunkMessages.filter((m) => {
        const recorded = [...m.deliveries, ...m.deadLettered].find(
          (span) =>
            consumerOf(TASK_EVENTS_DLQ)?.route === `/events/${span.operationName}` &&
            outcome(span) === 'success',
        );
        if (!recorded) return false;
        const eventId = String(tag(recorded, 'messaging.message.id'));
        return !traces.has(recorded.traceID) && !ids.has(eventId);
      });
      expect(unlisted.map((m) => m.label)).toEqual([]);
    }

    const logs = await logByTrace();
    const problems: string[] = [];
    for (const m of messages) {
      const where = `${m.label} [trace ${m.traceId}]`;
      if (!m.done || m.done === 'lost after retries')
        problems.push(
          `${where}: ${m.done ?? `no end after ${SETTLE_MS} ms`} (${[...m.deliveries, ...m.deadLettered].map((s) => `${s.operationName} ${outcome(s)}`)})`,
        );
      if (m.deliveries.length > 1 + retries)
        problems.push(`${where}: delivered ${m.deliveries.length} times (at most ${1 + retries})`);
      for (const span of [...m.deliveries, ...m.deadLettered].filter((s) => outcome(s) === 'drop')) {
        const reasons = (logs.get(span.traceID) ?? []).filter(
          (line) =>
            line.level === 'warn' && line.function === span.operationName && /dropped/.test(String(line.msg)),
        );
        if (reasons.length === 0)
          problems.push(`${where}: ${span.operationName} dropped it with no reason logged`);
      }
      if (m.done === 'dropped' && m.subscription.deadLetterTopic && m.deadLettered.length === 0)
        problems.push(`${where}: dropped but not delivered to ${m.subscription.deadLetterTopic}`);
    }
    const summary = new Map<string, number>();
    for (const m of messages) {
      const key = `${m.subscription.topic} ${m.class} → ${m.done}${m.deliveries.length > 1 ? ' after retries' : ''}`;
      summary.set(key, (summary.get(key) ?? 0) + 1);
    }
    console.log(
      `event fuzz: ${messages.length} messages\n${[...summary].map(([k, n]) => `  ${n} × ${k}`).join('\n')}`,
    );
    const refused = messages.filter((m) => m.done === 'refused by daprd');
    console.log(
      `event fuzz: daprd refused ${refused.length} publishes:\n${refused
        .map((m) => `  ${m.label}: ${m.publishStatus} ${m.publishAnswer?.slice(0, 160)}`)
        .join('\n')}`,
    );
    expect(problems).toEqual([]);
    // Meaningful: hostile events reached the app and were both handled and dropped.
    expect(messages.filter((m) => m.done === 'handled').length).toBeGreaterThan(0);
    expect(messages.filter((m) => m.done === 'dead-lettered' || m.done === 'dropped').length).toBeGreaterThan(
      messages.length / 4,
    );

    await fuzzJobs(random);
    await fuzzBindings(random);
    await expectQuiet();

    // daprd and the app are up, the app never restarted, and nothing escaped a handler.
    expect((await fetch(`${daprdUrl()}/v1.0/healthz`)).status).toBe(204);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const lines = await appLogLines();
    expect(lines.filter((line) => line.msg === 'listening')).toHaveLength(1);
    expect(lines.filter((line) => line.msg === 'unhandled error')).toEqual([]);
  });
});

/** Polls Jaeger until every message has ended, or SETTLE_MS passed. */
async function settleMessages(
  messages: Message[],
  consumerOf: (topic: string | undefined) => Subscription | undefined,
  retries: number,
) {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const open = messages.filter((m) => !m.done);
    const expired = await expiredByDaprd();
    await pool(open, 8, async (m) => {
      if (m.publishStatus === undefined || m.publishStatus >= 300 || m.publishStatus === 0) {
        m.done = 'refused by daprd';
        return;
      }
      if (m.id && expired.has(m.id)) {
        m.done = 'expired in daprd';
        return;
      }
      const fn = functionOf(m.subscription);
      let spans = await jaegerSpans(m.traceId);
      if (!spans.some((s) => s.operationName === fn) && m.id)
        spans = await jaegerSpansTagged(fn, 'messaging.message.id', m.id);
      const byStart = (a: JaegerSpan, b: JaegerSpan) => a.startTime - b.startTime;
      m.deliveries = spans.filter((s) => s.operationName === fn).sort(byStart);
      const dlq = consumerOf(m.subscription.deadLetterTopic);
      m.deadLettered = dlq ? spans.filter((s) => s.operationName === functionOf(dlq)).sort(byStart) : [];
      const last = outcome(m.deliveries.at(-1));
      if (m.deadLettered.some((s) => outcome(s) === 'success' || outcome(s) === 'drop'))
        m.done = 'dead-lettered';
      else if (last === 'success') m.done = 'handled';
      else if (last === 'drop' && !dlq) m.done = 'dropped';
      // Retried as often as daprd retries, and never ended: daprd gives up on it.
      const stage = dlq ? m.deadLettered : m.deliveries;
      const ends = stage.some((s) => outcome(s) === 'success' || outcome(s) === 'drop');
      if (!m.done && !ends && stage.length >= 1 + retries) m.done = 'lost after retries';
    });
    if (messages.every((m) => m.done)) return;
    if (Date.now() > deadline) {
      console.log(`event fuzz: ${open.length} messages have no end: ${open.map((m) => m.label).join('; ')}`);
      return;
    }
    await sleep(1000);
  }
}

/** Hostile jobs through daprd's Jobs API, to every job function's prefix; each must run, or be dropped, a bounded number of times. */
async function fuzzJobs(random: Random) {
  const maxRetries = 2;
  const jobs: Array<{ name: string; label: string; fn: string; status: number }> = [];
  const functions = allFunctions.flatMap((fn) =>
    fn.trigger.kind === 'job' ? [{ ...fn.trigger, name: fn.name }] : [],
  );
  expect(functions.length).toBeGreaterThan(0);
  for (const { name: fn, prefix } of functions) {
    // daprd hands a job's data to the app through protobuf, which nests no deeper than 10,000 messages
    // (up to three a JSON level): it takes a deeper job, then fails every trigger before the app sees it.
    const payloads = hostileJobData(random, { ...options, depth: 3000 });
    await pool([...payloads.entries()], 4, async ([n, payload]) => {
      const name = `${prefix}fuzz-${seed}-${n}`;
      const response = await daprdJob(name, payload.json, maxRetries);
      jobs.push({ name, label: payload.name, fn, status: response.status });
    });
  }
  const scheduled = jobs.filter((job) => job.status < 300);
  expect(scheduled.length).toBeGreaterThan(jobs.length / 2);
  // A job under no function's prefix: nothing can ever handle it.
  const stray = `fuzz-${seed}-no-function`;
  expect((await daprdJob(stray, '{"taskId":"x"}', maxRetries)).status).toBe(204);

  const ended = (spans: JaegerSpan[] = []) =>
    spans.some((s) => outcome(s) === 'success' || outcome(s) === 'drop');
  const results = new Map<string, JaegerSpan[]>();
  await eventually(
    async () => {
      const open = scheduled.filter((job) => !ended(results.get(job.name)));
      await pool(open, 8, async (job) => {
        results.set(job.name, await jaegerSpansTagged(job.fn, 'job.name', job.name));
      });
      return scheduled.filter((job) => !ended(results.get(job.name)));
    },
    (open) => open.length === 0,
    60_000,
  );
  // Any failure would have been retried within this.
  await sleep(2000 * (1 + maxRetries));
  const lines = await appLogLines();
  const problems: string[] = [];
  for (const job of scheduled) {
    const spans = await jaegerSpansTagged(job.fn, 'job.name', job.name);
    if (spans.length !== 1) problems.push(`${job.label}: ran ${spans.length} times (${spans.map(outcome)})`);
    const logged = lines.filter((line) => line.job === job.name && /dropped/.test(String(line.msg)));
    if (spans.some((s) => outcome(s) === 'drop') && logged.length === 0)
      problems.push(`${job.label}: dropped with no reason logged`);
  }
  // The stray job is acknowledged with a logged reason, once: the scheduler does not fire it again.
  const strayLines = lines.filter((line) => line.job === stray);
  if (strayLines.length !== 1 || !/dropped/.test(String(strayLines[0]?.msg)))
    problems.push(`a job no function handles: logged ${JSON.stringify(strayLines.map((line) => line.msg))}`);
  const refused = jobs.filter((job) => job.status >= 300).map((job) => `${job.label} (${job.status})`);
  console.log(`event fuzz: ${jobs.length + 1} jobs; daprd refused ${refused.length}: ${refused.join('; ')}`);
  expect(problems).toEqual([]);
}

function daprdJob(name: string, data: string, maxRetries: number) {
  return fetch(`${daprdUrl()}/v1.0/jobs/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"dueTime":"1s","failurePolicy":{"constant":{"interval":"1s","maxRetries":${maxRetries}}},"data":${data}}`,
  });
}

/**
 * The input bindings called as daprd calls them (the cron binding has no
 * payload of its own): a POST with daprd's app token and any body. Each runs
 * its function and answers 200; none may fail.
 */
async function fuzzBindings(random: Random) {
  const { url, appToken } = stack();
  const bindings = allFunctions.flatMap((fn) => (fn.trigger.kind === 'binding' ? [fn.trigger.binding] : []));
  expect(bindings.length).toBeGreaterThan(0);
  const answers: string[] = [];
  for (const binding of bindings) {
    for (const body of hostileBindingBodies(random, options)) {
      const response = await fetch(`${url}/${binding}`, {
        method: 'POST',
        headers: { 'dapr-api-token': appToken, 'content-type': body.contentType },
        body: body.json,
      });
      answers.push(`${binding} ${body.name}: ${response.status}`);
    }
  }
  expect(answers.filter((line) => !line.endsWith(': 200'))).toEqual([]);
}

/**
 * Nothing loops: the app's event and job deliveries stop (read twice, some
 * seconds apart, once the last retry could have come), the cron bindings run
 * no faster than their schedule (at most once a second in tests), and daprd's
 * CPU is back to idle-ish.
 */
async function expectQuiet() {
  const windowMs = 5000;
  // What is read is there: daprd's process CPU, and the app's counts of its event deliveries.
  expect((await scrape(stack().daprMetrics)).has('process_cpu_seconds_total')).toBe(true);
  expect([...(await invocationCounts()).keys()].filter((key) => key.endsWith(' topic'))).not.toEqual([]);
  const moved = await eventually(
    async () => {
      const before = await invocationCounts();
      const cpuBefore = (await scrape(stack().daprMetrics)).get('process_cpu_seconds_total') ?? 0;
      await sleep(windowMs);
      const after = await invocationCounts();
      const cpuAfter = (await scrape(stack().daprMetrics)).get('process_cpu_seconds_total') ?? 0;
      const rising = [...after].filter(([key, n]) => {
        const rise = n - (before.get(key) ?? 0);
        return key.endsWith(' binding') ? rise > windowMs / 1000 + 2 : rise > 0 && !key.endsWith(' http');
      });
      return { rising, cpu: (cpuAfter - cpuBefore) / (windowMs / 1000) };
    },
    ({ rising, cpu }) => rising.length === 0 && cpu < 0.25,
    60_000,
  );
  console.log(`event fuzz: quiet; daprd CPU ${(moved.cpu * 100).toFixed(1)}% of a core`);
}
