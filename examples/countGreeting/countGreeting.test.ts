import { describe, expect, it } from 'vitest';
import { createTestApp, TEST_APP_TOKEN } from '../../shared/testing.ts';
import { greetingApp } from '../app.ts';
import { tallyKey } from '../greetings.ts';
import { countGreeting } from './index.ts';

const greeting = { id: '6d1f3e43-5e0b-4a4b-9a53-000000000001', name: 'Ada', at: '2026-11-27T09:00:00.000Z' };
/** A CloudEvent as daprd delivers it. */
const cloudEvent = (id: string, data: unknown = greeting, type = 'greeting.created') => ({
  specversion: '1.0',
  id,
  type,
  source: 'greetings',
  subject: greeting.id,
  datacontenttype: 'application/json',
  data,
});

function setup() {
  const app = createTestApp(greetingApp, [countGreeting]);
  const deliver = async (event: unknown) => (await app.fromDaprd('/events/countGreeting', event)).json();
  const tally = () => app.dapr.state.get(tallyKey('2026-11-27'))?.value;
  return { ...app, deliver, tally };
}

describe('countGreeting', () => {
  it('counts each greeting in its day once, however often its event is delivered', async () => {
    const { deliver, tally } = setup();
    expect(await deliver(cloudEvent('e1'))).toEqual({ status: 'SUCCESS' });
    expect(await deliver(cloudEvent('e1'))).toEqual({ status: 'SUCCESS' });
    expect(await deliver(cloudEvent('e2', { ...greeting, id: 'another' }))).toEqual({ status: 'SUCCESS' });
    expect(await deliver(cloudEvent('e1'))).toEqual({ status: 'SUCCESS' });
    expect(tally()).toEqual({ date: '2026-11-27', count: 2, eventIds: ['e1', 'e2'] });
  });

  it.each([
    ['an event of another type', cloudEvent('x1', greeting, 'greeting.unknown')],
    ['data that is not a greeting', cloudEvent('x2', { name: 42 })],
    ['a body that is not a CloudEvent', { hello: 'world' }],
  ])('drops %s (to the dead-letter topic), counting nothing', async (_name, event) => {
    const { deliver, tally } = setup();
    expect(await deliver(event)).toEqual({ status: 'DROP' });
    expect(tally()).toBeUndefined();
  });

  it('asks for a redelivery when the store fails (a throw), and counts once on it', async () => {
    const { deliver, dapr, tally } = setup();
    dapr.failNext('saveState', new Error('store down'));
    expect(await deliver(cloudEvent('e1'))).toEqual({ status: 'RETRY' });
    expect(await deliver(cloudEvent('e1'))).toEqual({ status: 'SUCCESS' });
    expect(tally()).toMatchObject({ count: 1 });
  });

  it('tells daprd its subscription: the topic, its route and the dead-letter topic', async () => {
    const { raw } = setup();
    const response = await raw('/dapr/subscribe', { headers: { 'dapr-api-token': TEST_APP_TOKEN } });
    expect(await response.json()).toEqual([
      {
        pubsubname: 'pubsub',
        topic: 'greetings',
        route: '/events/countGreeting',
        deadLetterTopic: 'greetings-dlq',
      },
    ]);
  });
});
