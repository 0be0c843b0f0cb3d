import { z } from '@hono/zod-openapi';
import { ONCE_TTL_SECONDS, once } from '../../shared/once.ts';
import { defineFunction } from '../app.ts';
import { type DayTally, tallyKey } from '../greetings.ts';

/** The cron input binding component (examples/components/greetings-digest.yaml) holds the schedule. */
export const DIGEST_BINDING = 'greetings-digest';
export const DIGESTS_TOPIC = 'greetings-digests';

/**
 * Triggered by the cron input binding: publishes `greetings.digest` with
 * yesterday's count (UTC days), once per day however often the cron fires
 * and however many replicas run it. A digest-record per day is written
 * after the publish, and the event's id comes from the day, so a repeated
 * publish (two replicas at once, a crash before the record) is a duplicate
 * a consumer drops by id. A greeting counted after the digest went out is
 * not in it.
 */
export const dailyDigest = defineFunction({
  name: 'dailyDigest',
  trigger: { kind: 'binding', binding: DIGEST_BINDING, data: z.unknown() },
  handler: async (_input, { deps, log }) => {
    const { dapr, config } = deps;
    const date = new Date(deps.now().getTime() - 24 * 3600_000).toISOString().slice(0, 10);
    const outcome = await once(
      dapr,
      config.STATE_STORE,
      `digest-sent|${date}`,
      ONCE_TTL_SECONDS,
      async () => {
        const tally = await dapr.getState<DayTally>(config.STATE_STORE, tallyKey(date));
        await dapr.publishCloudEvent(config.PUBSUB, DIGESTS_TOPIC, {
          id: `greetings.digest:${date}`,
          type: 'greetings.digest',
          source: config.APP_ID,
          subject: date,
          data: { date, count: tally?.value.count ?? 0 },
        });
        return true;
      },
    );
    if (outcome === 'done') log.info('digest published', { date });
  },
});
