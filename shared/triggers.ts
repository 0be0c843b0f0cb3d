import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { daprAppToken } from './auth.ts';
import type {
  AppEnv,
  BindingFunction,
  Deps,
  EventStatus,
  FunctionDefinition,
  JobFunction,
  TopicFunction,
} from './function.ts';
import type { Logger } from './log.ts';
import { Problem } from './problem.ts';
import { invocation, setOutcome, type TraceCarrier } from './telemetry.ts';

/** The CloudEvent envelope daprd delivers; `data` is checked by each function's own schema. */
const CloudEventEnvelope = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  source: z.string(),
  subject: z.string().optional(),
  time: z.string().optional(),
  data: z.unknown(),
});

const BulkDelivery = z.object({
  entries: z.array(z.looseObject({ entryId: z.string(), event: z.unknown() })),
});

const isBulkShaped = (body: unknown) => typeof body === 'object' && body !== null && 'entries' in body;

export const topicRoute = (fn: Pick<TopicFunction, 'name'>) => `/events/${fn.name}`;

/** Whether a path is one daprd delivers to (events, jobs, input bindings). */
export function isTriggerPath<C extends object>(
  functions: readonly FunctionDefinition<C>[],
): (path: string) => boolean {
  const bindings = new Set(
    functions.flatMap((fn) => (fn.trigger.kind === 'binding' ? [`/${fn.trigger.binding}`] : [])),
  );
  return (path) => path.startsWith('/events/') || path.startsWith('/job/') || bindings.has(path);
}

/**
 * Mounts the routes daprd calls: `GET /dapr/subscribe`, one route per topic
 * function, `POST /job/{name}` and the input bindings' `OPTIONS|POST /{name}`.
 * All of them require daprd's app API token. Every trigger kind goes through
 * one wrapper: the payload is parsed with the function's schema, a payload
 * that can never succeed is dropped with a log line saying why, and a throw
 * means the delivery is retried.
 */
export function mountEventTriggers<C extends object>(
  app: OpenAPIHono<AppEnv<C>>,
  functions: readonly FunctionDefinition<C>[],
  deps: Deps<C>,
  subject?: string,
) {
  const onlyDaprd = daprAppToken(deps.config.APP_API_TOKEN);
  const topics = functions.filter((fn): fn is TopicFunction<z.ZodType, C> => fn.trigger.kind === 'topic');
  const jobs = functions.filter((fn): fn is JobFunction<z.ZodType, C> => fn.trigger.kind === 'job');
  const bindings = functions.filter(
    (fn): fn is BindingFunction<z.ZodType, C> => fn.trigger.kind === 'binding',
  );

  app.get('/dapr/subscribe', onlyDaprd, (c) =>
    c.json(
      topics.map((fn) => ({
        pubsubname: deps.config.PUBSUB,
        topic: fn.trigger.topic,
        route: topicRoute(fn),
        ...(fn.trigger.deadLetterTopic ? { deadLetterTopic: fn.trigger.deadLetterTopic } : {}),
        ...((fn.trigger.bulk ?? deps.config.PUBSUB_BULK)
          ? { bulkSubscribe: { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 40 } }
          : {}),
      })),
    ),
  );

  for (const fn of topics) {
    app.post(topicRoute(fn), onlyDaprd, async (c) => {
      const body: unknown = await c.req.json().catch(() => undefined);
      // Only a body with entries is parsed as a bulk: a failed parse of every single event costs zod's issues.
      const bulk = isBulkShaped(body) ? BulkDelivery.safeParse(body) : undefined;
      if (bulk?.success) {
        // Entries about the same subject (one order, say) run in order; different subjects side by side.
        // After a RETRY the subject's later entries are not run but retried too, so order holds.
        const statuses = new Map<string, EventStatus>();
        await Promise.all(
          groupBySubject(bulk.data.entries).map(async (group) => {
            let blocked = false;
            for (const entry of group) {
              // Each entry carries its publisher's trace context as CloudEvent attributes.
              const status: EventStatus = blocked
                ? 'RETRY'
                : await deliverEvent(fn, entry.event, deps, traceContextOf(entry.event), subject);
              blocked ||= status === 'RETRY';
              statuses.set(entry.entryId, status);
            }
          }),
        );
        return c.json({
          statuses: bulk.data.entries.map(({ entryId }) => ({ entryId, status: statuses.get(entryId) })),
        });
      }
      // daprd's traceparent header names its delivery span; without one, the event's own context.
      const carrier = c.req.header('traceparent') ? c.req.header() : traceContextOf(body);
      return c.json({ status: await deliverEvent(fn, body, deps, carrier, subject) });
    });
  }

  if (jobs.length > 0) {
    app.post('/job/:name', onlyDaprd, async (c) => {
      const name = c.req.param('name');
      const fn = jobs.find((job) => name.startsWith(job.trigger.prefix));
      if (!fn) {
        // A job fires only at the app that scheduled it: one no function here handles never will be.
        // A failure would have the scheduler fire it again by its failure policy: acknowledge it.
        deps.log.warn('job dropped: no function handles it', { trigger: 'job', job: name });
        return c.json({ status: 'DROP' });
      }
      const log = deps.log.child({ function: fn.name, trigger: 'job', job: name });
      const payload = await c.req.json().catch(() => undefined);
      return invocation(
        { name: fn.name, trigger: 'job' },
        c.req.header(),
        { 'job.name': name },
        async (span) => {
          const data = fn.trigger.data.safeParse(payload);
          if (!data.success) {
            // A payload that does not parse never will: acknowledge so the scheduler stops firing it.
            log.warn('job payload is invalid; dropped', { issues: data.error.issues });
            setOutcome(span, 'drop');
            return c.json({ status: 'DROP' });
          }
          const about = fn.trigger.subject?.(data.data);
          if (subject && about) span.setAttribute(subject, about);
          await runOrFail(
            () => fn.handler({ name, data: data.data }, { deps, log }),
            log,
            'the scheduler fires it again',
          );
          setOutcome(span, 'success');
          return c.json({ status: 'SUCCESS' });
        },
      );
    });
  }

  for (const fn of bindings) {
    const path = `/${fn.trigger.binding}`;
    app.options(path, onlyDaprd, (c) => c.body(null, 200));
    app.post(path, onlyDaprd, async (c) => {
      const log = deps.log.child({ function: fn.name, trigger: 'binding' });
      const text = await c.req.text();
      return invocation(
        { name: fn.name, trigger: 'binding' },
        c.req.header(),
        { 'binding.name': fn.trigger.binding },
        async (span) => {
          const data = fn.trigger.data.safeParse(text ? safeJson(text) : undefined);
          if (!data.success) {
            log.warn('binding payload is invalid; dropped', { issues: data.error.issues });
            setOutcome(span, 'drop');
            return c.json({ status: 'DROP' });
          }
          await runOrFail(
            () => fn.handler({ data: data.data }, { deps, log }),
            log,
            'daprd reports the failure',
          );
          setOutcome(span, 'success');
          return c.json({ status: 'SUCCESS' });
        },
      );
    });
  }
}

/** Bulk entries grouped by their CloudEvent `subject` (entries without one each form a group), in order. */
function groupBySubject<E extends { entryId: string; event: unknown }>(entries: readonly E[]): E[][] {
  const groups = new Map<string, E[]>();
  for (const entry of entries) {
    const subject = (entry.event as { subject?: unknown } | null)?.subject;
    const key = typeof subject === 'string' && subject ? `s:${subject}` : `e:${entry.entryId}`;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return [...groups.values()];
}

/**
 * One event through a topic function, in the function's span (child of
 * `carrier`'s trace context): parse, run, map the outcome to daprd's ack status.
 */
export async function deliverEvent<C extends object>(
  fn: TopicFunction<z.ZodType, C>,
  raw: unknown,
  deps: Deps<C>,
  carrier: TraceCarrier = traceContextOf(raw),
  subjectAttribute?: string,
): Promise<EventStatus> {
  const envelope = CloudEventEnvelope.safeParse(raw);
  const { id, type, subject } = envelope.success ? envelope.data : {};
  const attributes = {
    ...(id ? { 'messaging.message.id': id } : {}),
    ...(type ? { 'cloudevents.event_type': type } : {}),
    ...(subject && subjectAttribute ? { [subjectAttribute]: subject } : {}),
  };
  return invocation({ name: fn.name, trigger: 'topic' }, carrier, attributes, async (span) => {
    const status = await handleEvent(fn, envelope, deps);
    setOutcome(span, status === 'SUCCESS' ? 'success' : status === 'RETRY' ? 'retry' : 'drop');
    return status;
  });
}

async function handleEvent<C extends object>(
  fn: TopicFunction<z.ZodType, C>,
  envelope: ReturnType<typeof CloudEventEnvelope.safeParse>,
  deps: Deps<C>,
): Promise<EventStatus> {
  const log = deps.log.child({ function: fn.name, trigger: 'topic' });
  if (!envelope.success) {
    log.warn('event dropped: not a CloudEvent', { issues: envelope.error.issues });
    return 'DROP';
  }
  const { id, type, source, subject, time } = envelope.data;
  const extensions = extensionsOf(envelope.data);
  const data = fn.trigger.data.safeParse(envelope.data.data);
  if (!data.success) {
    log.warn('event dropped: its data does not match the schema', {
      eventId: id,
      type,
      issues: data.error.issues,
    });
    return 'DROP';
  }
  try {
    return (
      (await fn.handler({ id, type, source, subject, time, extensions, data: data.data }, { deps, log })) ??
      'SUCCESS'
    );
  } catch (error) {
    log.error('event handler failed; daprd will redeliver', { eventId: id, type, subject, error });
    return 'RETRY';
  }
}

/** The W3C trace context a CloudEvent carries (`traceparent`, `tracestate`). */
function traceContextOf(event: unknown): TraceCarrier {
  const { traceparent, tracestate } = (event ?? {}) as Record<string, unknown>;
  const state = typeof tracestate === 'string' && tracestate ? { tracestate } : {};
  return typeof traceparent === 'string' && traceparent ? { traceparent, ...state } : {};
}

/** CloudEvent attributes that are neither the spec's own nor added by daprd on delivery. */
const notExtensions = new Set([
  ...['id', 'type', 'source', 'subject', 'time', 'data', 'data_base64', 'specversion', 'datacontenttype'],
  ...['dataschema', 'topic', 'pubsubname', 'traceid', 'traceparent', 'tracestate', 'expiration'],
]);

function extensionsOf(envelope: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(envelope).filter(
      (entry): entry is [string, string] => !notExtensions.has(entry[0]) && typeof entry[1] === 'string',
    ),
  );
}

/** Runs a job or binding handler; a throw is logged and answered with a 500, which daprd treats as a failure. */
async function runOrFail(run: () => Promise<void>, log: Logger, then: string) {
  try {
    await run();
  } catch (error) {
    log.error(`handler failed; ${then}`, { error });
    throw new Problem(500, 'Internal Server Error', 'The handler failed; it has been logged.', {
      cause: error,
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
