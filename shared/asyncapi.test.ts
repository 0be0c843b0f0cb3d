import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { asyncApiDocument, cloudEventSchema, type EventTopic, eventMessageSchema } from './asyncapi.ts';
import { defineFunction } from './function.ts';

const Order = z.object({ id: z.string(), total: z.number() });
const Cancelled = z.object({ id: z.string(), reason: z.string() });
const orders: EventTopic = {
  topic: 'orders',
  description: 'Every order change',
  key: 'The order id',
  messages: [
    {
      type: 'order.placed',
      summary: 'An order was placed',
      dataName: 'Order',
      data: Order,
      extensions: { seq: z.string() },
      publishers: ['placeOrder'],
    },
    { type: 'order.paid', summary: 'Paid', dataName: 'Order', data: Order, publishers: ['payOrder'] },
    {
      type: 'order.cancelled',
      summary: 'Cancelled',
      dataName: 'Cancelled',
      data: Cancelled,
      publishers: ['cancelOrder'],
    },
  ],
};

const http = (name: string) =>
  defineFunction({
    name,
    trigger: {
      kind: 'http',
      route: { method: 'post', path: `/${name}`, responses: { 204: { description: 'done' } } },
    },
    handler: async (c) => c.body(null, 204),
  });
const onOrder = defineFunction({
  name: 'onOrder',
  trigger: {
    kind: 'topic',
    topic: 'orders',
    data: z.union([Order, Cancelled]),
    deadLetterTopic: 'orders-dlq',
  },
  handler: async () => 'SUCCESS' as const,
});
const onDead = defineFunction({
  name: 'onDead',
  trigger: { kind: 'topic', topic: 'orders-dlq', data: z.unknown() },
  handler: async () => 'SUCCESS' as const,
});
const onShipment = defineFunction({
  name: 'onShipment',
  trigger: { kind: 'topic', topic: 'shipments', data: z.object({ parcel: z.string() }) },
  handler: async () => 'SUCCESS' as const,
});
const info = { title: 'Orders', version: '1.0.0', description: 'Orders on Dapr' };

/** One parser for the file: making one loads its rulesets (about a third of a parse). */
const parser = new Parser();
/** Parsing with every rule takes 0.3 s a document alone, several seconds on a loaded machine. */
const PARSE_BUDGET_MS = 60_000;

/** The parser's findings of severity error (0) or warning (1): none is allowed. */
async function problems(document: unknown) {
  const { diagnostics } = await parser.parse(JSON.stringify(document));
  return diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.path.join('/')}: ${d.message}`);
}

describe('asyncApiDocument', () => {
  it(
    'is a valid AsyncAPI document with a channel, its messages and each operation',
    async () => {
      const functions = [
        http('placeOrder'),
        http('payOrder'),
        http('cancelOrder'),
        onOrder,
        onDead,
        onShipment,
      ];
      const document = asyncApiDocument(info, [orders], functions);
      expect(await problems(document)).toEqual([]);
      expect(document.asyncapi).toMatch(/^3\./);
      expect(Object.keys(document.channels).sort()).toEqual(['orders', 'orders-dlq', 'shipments']);
      expect(Object.keys(document.channels.orders?.messages ?? {})).toEqual([
        'order.placed',
        'order.paid',
        'order.cancelled',
      ]);
      expect(document.operations).toMatchObject({
        'publish-orders': { action: 'send', summary: 'Published by placeOrder, payOrder, cancelOrder' },
        onOrder: { action: 'receive', channel: { $ref: '#/channels/orders' } },
        onDead: { action: 'receive', channel: { $ref: '#/channels/orders-dlq' } },
        onShipment: { action: 'receive', channel: { $ref: '#/channels/shipments' } },
      });
      // The data schema two types share is one schema, referenced from both envelopes.
      const schemas = document.components.schemas;
      expect(Object.keys(schemas).filter((id) => id === 'Order')).toHaveLength(1);
      expect(schemas['order.placed']).toMatchObject({
        properties: { type: { const: 'order.placed' }, data: { $ref: '#/components/schemas/Order' } },
        required: expect.arrayContaining(['specversion', 'id', 'source', 'type', 'data', 'seq']),
      });
      expect(schemas['order.paid']).toMatchObject({
        properties: { data: { $ref: '#/components/schemas/Order' } },
      });
      expect(document.components.messages['order.placed']).toMatchObject({
        contentType: 'application/cloudevents+json',
        bindings: { kafka: { key: { type: 'string', description: 'The order id' } } },
      });
    },
    PARSE_BUDGET_MS,
  );

  it('describes a dead-letter topic from the subscription that names it', () => {
    const document = asyncApiDocument(info, [orders], [onOrder]);
    expect(document.channels['orders-dlq']?.description).toMatch(
      /dead-letter topic of onOrder \(from orders\)/,
    );
    expect(document.components.schemas['dead-letter-orders-dlq']).toMatchObject({
      properties: { type: { type: 'string' }, data: {} },
    });
    expect(document.operations.onOrder).toMatchObject({ description: expect.stringMatching(/orders-dlq/) });
  });

  it("names a topic nobody in the app declares with its subscriber's data schema", () => {
    const document = asyncApiDocument(info, [], [onShipment]);
    expect(document.components.schemas['shipments-event']).toMatchObject({
      properties: { data: { properties: { parcel: { type: 'string' } }, required: ['parcel'] } },
    });
  });

  it(
    "holds a bundle's own operations only",
    async () => {
      const document = asyncApiDocument(info, [orders], [http('payOrder')]);
      expect(await problems(document)).toEqual([]);
      expect(document.operations).toEqual({
        'publish-orders': expect.objectContaining({
          summary: 'Published by payOrder',
          messages: [{ $ref: '#/channels/orders/messages/order.paid' }],
        }),
      });
      // Neither publishing nor receiving: the topic is not this bundle's.
      expect(asyncApiDocument(info, [orders], [http('getOrder')]).channels).toEqual({});
    },
    PARSE_BUDGET_MS,
  );

  it('refuses one name for two different data schemas', () => {
    const clash: EventTopic = {
      ...orders,
      messages: [
        { ...orders.messages[0], dataName: 'Cancelled' } as EventTopic['messages'][number],
        ...orders.messages.slice(2),
      ],
    };
    expect(() => asyncApiDocument(info, [clash], [http('placeOrder')])).toThrow(
      /two schemas are named Cancelled/,
    );
  });

  it('makes its payloads from the zod schema that parses the envelopes', () => {
    const placed = orders.messages[0];
    if (!placed) throw new Error('no message');
    const envelope = {
      specversion: '1.0',
      id: 'o1:1',
      source: 'orders',
      type: 'order.placed',
      datacontenttype: 'application/json',
      seq: '1',
      data: { id: 'o1', total: 3 },
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    expect(eventMessageSchema(placed).safeParse(envelope).success).toBe(true);
    expect(eventMessageSchema(placed).safeParse({ ...envelope, type: 'order.paid' }).success).toBe(false);
    expect(eventMessageSchema(placed).safeParse({ ...envelope, seq: undefined }).success).toBe(false);
    expect(cloudEventSchema(z.string(), Order).safeParse({ ...envelope, data: { id: 1 } }).success).toBe(
      false,
    );
  });
});
