import { describe, expect, it } from 'vitest';
import { allFunctions } from '../apps.ts';
import { Random } from '../test/faults/prng.ts';
import {
  envelopeJson,
  hostileBindingBodies,
  hostileData,
  hostileEnvelopes,
  hostileJobData,
} from '../test/hostile-events.ts';
import { createTestApp, TEST_APP_TOKEN } from './testing.ts';

const SEED = 20261127;
// Smaller than the integration test's: the same shapes, quicker through the fake sidecar.
const options = { hugeChars: 100_000, depth: 10_000 };

function setup() {
  const app = createTestApp(allFunctions);
  const post = (path: string, body: string, contentType = 'application/json') =>
    app.raw(path, {
      method: 'POST',
      headers: { 'dapr-api-token': TEST_APP_TOKEN, 'content-type': contentType },
      body,
    });
  return { ...app, post };
}

/** Every CloudEvent of the corpus: each data payload with each event type, and each odd envelope. */
function hostileEvents(random: Random): Array<{ name: string; json: string }> {
  const data = hostileData(random, options);
  const events = data.map((payload, n) => ({
    name: payload.name,
    json: envelopeJson(`fuzz-${n}`, {}, payload.json),
  }));
  const task = data.find((payload) => payload.class === 'unknown task')?.json;
  for (const [n, envelope] of hostileEnvelopes(random, options).entries())
    events.push({ name: envelope.name, json: envelopeJson(`odd-${n}`, envelope.attributes, task) });
  return events;
}

describe('hostile payloads on the routes daprd calls', () => {
  it('every event to every subscription is handled or dropped, never retried or failed', async () => {
    const { raw, post } = setup();
    const subscriptions: Array<{ route: string }> = await (
      await raw('/dapr/subscribe', { headers: { 'dapr-api-token': TEST_APP_TOKEN } })
    ).json();
    expect(subscriptions.length).toBeGreaterThan(0);
    const outcomes: string[] = [];
    for (const { route } of subscriptions) {
      for (const event of hostileEvents(new Random(SEED))) {
        const response = await post(route, event.json);
        const status = response.status === 200 ? (await response.json()).status : response.status;
        outcomes.push(`${route} ${event.name}: ${status}`);
      }
    }
    expect(outcomes.filter((line) => !/: (SUCCESS|DROP)$/.test(line))).toEqual([]);
  }, 60_000);

  it('every event of a bulk delivery gets its own SUCCESS or DROP', async () => {
    const { post } = setup();
    const events = hostileEvents(new Random(SEED + 1));
    const body = `{"entries":[${events.map((e, n) => `{"entryId":"${n}","event":${e.json}}`).join(',')}]}`;
    const response = await post('/events/onTaskEvent', body);
    expect(response.status).toBe(200);
    const { statuses } = await response.json();
    const bad = statuses.filter((s: { status: string }) => s.status !== 'SUCCESS' && s.status !== 'DROP');
    expect(bad.map((s: { entryId: number }) => events[s.entryId]?.name)).toEqual([]);
    expect(statuses).toHaveLength(events.length);
  });

  it('every job payload is run or dropped: never a failure, which would make the scheduler fire it again', async () => {
    const { post } = setup();
    const outcomes: string[] = [];
    for (const [n, payload] of hostileJobData(new Random(SEED), options).entries()) {
      const response = await post(`/job/reminder-fuzz-${n}`, payload.json);
      const status = response.status === 200 ? (await response.json()).status : response.status;
      outcomes.push(`${payload.name}: ${status}`);
    }
    expect(outcomes.filter((line) => !/: (SUCCESS|DROP)$/.test(line))).toEqual([]);
  });

  it('every input binding answers any body with 200', async () => {
    const { post } = setup();
    const bindings = allFunctions.flatMap((fn) =>
      fn.trigger.kind === 'binding' ? [fn.trigger.binding] : [],
    );
    const outcomes: string[] = [];
    for (const binding of bindings)
      for (const body of hostileBindingBodies(new Random(SEED), options))
        outcomes.push(
          `${binding} ${body.name}: ${(await post(`/${binding}`, body.json, body.contentType)).status}`,
        );
    expect(outcomes.filter((line) => !line.endsWith(': 200'))).toEqual([]);
  });
});
