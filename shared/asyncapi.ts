import { z } from 'zod';
import type { FunctionDefinition, TopicFunction } from './function.ts';

/**
 * `GET /asyncapi.json`: the events, as an AsyncAPI 3 document, made from the
 * same zod schemas as the code. The topics an app publishes to it declares
 * (AppDefinition.events: each CloudEvent type, its data schema and which
 * functions publish it); what it receives comes from its topic functions, and
 * their dead-letter topics from their subscriptions. A bundle's document
 * holds its own functions' operations only, as its `/openapi.json` does.
 */

/** One CloudEvent type an app publishes. */
export interface EventMessage {
  /** The CloudEvent `type`. */
  type: string;
  summary: string;
  /** The data schema's name in the document (`components.schemas`); a schema shared by types has one name. */
  dataName: string;
  data: z.ZodType;
  /** The extension attributes the type carries (CloudEvents extensions are strings; optional ones may be absent). */
  extensions?: Record<string, z.ZodType<string | undefined>>;
  /** The functions whose invocations publish it. */
  publishers: readonly string[];
}

/** A topic an app publishes to. */
export interface EventTopic {
  topic: string;
  description: string;
  /** What the partition key is (`metadata.partitionKey`: Kafka's record key, the unit of order). */
  key?: string;
  messages: readonly EventMessage[];
}

const daprdAdds = (what: string) => z.string().optional().describe(`Added by daprd on publish: ${what}`);

/**
 * The structured CloudEvent 1.0 a subscriber receives (what cloudEventEnvelope
 * sends daprd, and the attributes daprd adds), as a zod schema: the document's
 * payloads are made from it, and tests parse published envelopes with it.
 */
export function cloudEventSchema(
  type: z.ZodType<string>,
  data: z.ZodType,
  extensions: Record<string, z.ZodType<string | undefined>> = {},
) {
  return z.looseObject({
    specversion: z.literal('1.0'),
    id: z
      .string()
      .min(1)
      .describe('Unique per event and the same on every copy of it: consumers drop an id they have handled'),
    source: z.string().min(1).describe('The app-id of the publisher'),
    type,
    subject: z.string().min(1).optional().describe('What the event is about'),
    time: z.string().optional().describe('RFC 3339'),
    datacontenttype: z.literal('application/json'),
    data,
    ...extensions,
    pubsubname: daprdAdds('the pub/sub component'),
    topic: daprdAdds('the topic'),
    traceid: daprdAdds('the W3C traceparent of the publish'),
    traceparent: daprdAdds('the W3C traceparent of the publish'),
    tracestate: daprdAdds('the W3C tracestate of the publish'),
  });
}

/** An EventMessage's envelope schema. */
export const eventMessageSchema = (message: EventMessage) =>
  cloudEventSchema(z.literal(message.type), message.data, message.extensions);

export interface AsyncApiInfo {
  title: string;
  version: string;
  description: string;
}

type Ref = { $ref: string };
const ref = (...path: string[]): Ref => ({ $ref: `#/${path.map(pointerToken).join('/')}` });
const pointerToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');
/** Names the document's maps accept (AsyncAPI: `^[A-Za-z0-9.\-_]+$`). */
const key = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');

interface Channel {
  address: string;
  description: string;
  messages: Record<string, Ref>;
}

/**
 * The AsyncAPI 3.0 document of `functions` (one bundle's, or every function of
 * the app) with the topics the app publishes to.
 */
export function asyncApiDocument<C extends object>(
  info: AsyncApiInfo,
  topics: readonly EventTopic[],
  functions: readonly FunctionDefinition<C>[],
) {
  const names = new Set(functions.map((fn) => fn.name));
  const subscribers = functions.filter(
    (fn): fn is TopicFunction<z.ZodType, C> => fn.trigger.kind === 'topic',
  );
  const channels: Record<string, Channel> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas = z.registry<{ id: string }>();
  const ids = new Set<string>();
  /** A schema's id in `components.schemas`: the one it has, else `id`, which no other schema may have. */
  const register = (schema: z.ZodType, id: string) => {
    const known = schemas.get(schema)?.id;
    if (known !== undefined) return known;
    if (ids.has(id)) throw new Error(`two schemas are named ${id}`);
    ids.add(id);
    schemas.add(schema, { id });
    return id;
  };
  const channel = (topic: string): Channel => {
    channels[key(topic)] ??= { address: topic, description: '', messages: {} };
    return channels[key(topic)] as Channel;
  };
  const addMessage = (
    topic: string,
    id: string,
    message: { name: string; summary: string; payload: z.ZodType; keyDescription?: string | undefined },
  ) => {
    messages[key(id)] ??= {
      name: message.name,
      title: message.name,
      summary: message.summary,
      contentType: 'application/cloudevents+json',
      payload: ref('components', 'schemas', register(message.payload, key(id))),
      ...(message.keyDescription
        ? {
            bindings: {
              kafka: {
                key: { type: 'string', description: message.keyDescription },
                bindingVersion: '0.5.0',
              },
            },
          }
        : {}),
    };
    channel(topic).messages[key(id)] = ref('components', 'messages', key(id));
    return ref('channels', key(topic), 'messages', key(id));
  };

  for (const topic of topics) {
    const published = topic.messages.filter((m) => m.publishers.some((name) => names.has(name)));
    const received = subscribers.some((fn) => fn.trigger.topic === topic.topic);
    if (published.length === 0 && !received) continue;
    channel(topic.topic).description = topic.description;
    const refs = topic.messages.map((message) => {
      register(message.data, key(message.dataName));
      return {
        message,
        ref: addMessage(topic.topic, message.type, {
          name: message.type,
          summary: message.summary,
          payload: eventMessageSchema(message),
          keyDescription: topic.key,
        }),
      };
    });
    const publishers = new Set(published.flatMap((m) => m.publishers).filter((name) => names.has(name)));
    if (published.length > 0)
      operations[key(`publish-${topic.topic}`)] = {
        action: 'send',
        channel: ref('channels', key(topic.topic)),
        summary: `Published by ${[...publishers].join(', ')}`,
        messages: refs.filter(({ message }) => published.includes(message)).map((r) => r.ref),
      };
  }

  const declared = new Set(topics.map((topic) => topic.topic));
  // Dead-letter topics: daprd forwards there, as it was, each event a subscriber dropped.
  for (const fn of subscribers) {
    const dlq = fn.trigger.deadLetterTopic;
    if (dlq === undefined || declared.has(dlq)) continue;
    const from = subscribers
      .filter((source) => source.trigger.deadLetterTopic === dlq)
      .map((source) => `${source.name} (from ${source.trigger.topic})`)
      .join(', ');
    channel(dlq).description =
      `The dead-letter topic of ${from}: daprd publishes here, unchanged but for its topic, each event the subscriber dropped (its data did not fit, or the handler answered DROP). Any type, any data.`;
    addMessage(dlq, `dead-letter-${dlq}`, {
      name: 'dead letter',
      summary: `An event dropped by ${from}`,
      payload: cloudEventSchema(z.string(), z.unknown()),
    });
  }
  for (const fn of subscribers) {
    const { topic, data } = fn.trigger;
    if (!declared.has(topic) && channels[key(topic)] === undefined) {
      channel(topic).description = `Events ${fn.name} receives; its publishers are not in this app.`;
      addMessage(topic, `${topic}-event`, {
        name: `${topic} event`,
        summary: `An event ${fn.name} handles`,
        payload: cloudEventSchema(z.string(), data),
      });
    }
    operations[key(fn.name)] = {
      action: 'receive',
      channel: ref('channels', key(topic)),
      summary: `${fn.name} (daprd delivers to POST /events/${fn.name})`,
      ...(fn.trigger.deadLetterTopic
        ? { description: `What it drops, daprd forwards to ${fn.trigger.deadLetterTopic}.` }
        : {}),
      messages: Object.keys(channels[key(topic)]?.messages ?? {}).map((id) =>
        ref('channels', key(topic), 'messages', id),
      ),
    };
  }

  const json = z.toJSONSchema(schemas, {
    target: 'draft-7',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${pointerToken(id)}`,
  }).schemas;
  // The document is one JSON Schema scope: each schema's own $schema and $id go.
  for (const schema of Object.values(json)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return {
    asyncapi: '3.1.0',
    info,
    defaultContentType: 'application/cloudevents+json',
    channels,
    operations,
    components: { schemas: json, messages },
  };
}
