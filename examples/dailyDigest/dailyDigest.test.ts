import { describe, expect, it } from 'vitest';
import { createTestApp, TEST_APP_TOKEN } from '../../shared/testing.ts';
import { greetingApp } from '../app.ts';
import { countGreeting } from '../countGreeting/index.ts';
import { dailyDigest } from './index.ts';

/** countGreeting and the digest in one test app, on the morning after 2026-11-27; `cron` is daprd's call. */
function setup() {
  const app = createTestApp(greetingApp, [countGreeting, dailyDigest]);
  app.setNow('2026-11-28T00:30:00.000Z');
  const count = (id: string, at: string) =>
    app.fromDaprd('/events/countGreeting', {
      specversion: '1.0',
      id,
      type: 'greeting.created',
      source: 'greetings',
      data: { id, name: 'Ada', at },
    });
  const cron = () => app.fromDaprd('/greetings-digest');
  const digests = () =>
    app.dapr.published.filter((p) => p.topic === 'greetings-digests').map((p) => p.cloudEvent);
  return { ...app, count, cron, digests };
}

describe('dailyDigest', () => {
  it("publishes yesterday's count once, however often the cron fires", async () => {
    const { count, cron, digests } = setup();
    await count('e1', '2026-11-27T09:00:00.000Z');
    await count('e2', '2026-11-27T17:00:00.000Z');
    await count('e3', '2026-11-28T00:10:00.000Z');
    for (let i = 0; i < 3; i++) expect((await cron()).status).toBe(200);
    expect(digests()).toEqual([
      {
        id: 'greetings.digest:2026-11-27',
        type: 'greetings.digest',
        source: 'greetings',
        subject: '2026-11-27',
        data: { date: '2026-11-27', count: 2 },
      },
    ]);
  });

  it('publishes the next day the next digest, a day without greetings too', async () => {
    const { cron, digests, advance } = setup();
    await cron();
    advance(24 * 3600_000);
    await cron();
    expect(digests().map((event) => event?.data)).toEqual([
      { date: '2026-11-27', count: 0 },
      { date: '2026-11-28', count: 0 },
    ]);
  });

  it('fails (500: daprd reports it) when publishing fails, and publishes on the next firing', async () => {
    const { cron, dapr, digests } = setup();
    dapr.failNext('publishCloudEvent', new Error('broker down'));
    expect((await cron()).status).toBe(500);
    expect((await cron()).status).toBe(200);
    expect(digests()).toHaveLength(1);
  });

  it("answers daprd's OPTIONS probe for the binding", async () => {
    const { raw } = setup();
    const probe = await raw('/greetings-digest', {
      method: 'OPTIONS',
      headers: { 'dapr-api-token': TEST_APP_TOKEN },
    });
    expect(probe.status).toBe(200);
  });
});
