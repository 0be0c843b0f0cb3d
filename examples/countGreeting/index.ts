import { saveWithEtag } from '../../shared/guarded-save.ts';
import { defineFunction } from '../app.ts';
import { type DayTally, GREETINGS_DLQ, GREETINGS_TOPIC, Greeting, tallyKey } from '../greetings.ts';

/** A day's tally is kept a month. */
const TALLY_TTL_SECONDS = 31 * 24 * 3600;

/**
 * Consumes `greetings`: counts each greeting in its day's tally, once per
 * CloudEvent id however often the event is delivered. The count and the
 * record that the event was counted (its id in `eventIds`) are one
 * etag-guarded save of one key, so a redelivery finds its id and changes
 * nothing, and two deliveries at once cannot both count. An event that is
 * not a `greeting.created` is dropped to `greetings-dlq` (as is one whose
 * data is not a greeting: the runtime checks it against `data`); a failure
 * throws, which daprd answers with a redelivery.
 */
export const countGreeting = defineFunction({
  name: 'countGreeting',
  trigger: { kind: 'topic', topic: GREETINGS_TOPIC, data: Greeting, deadLetterTopic: GREETINGS_DLQ },
  handler: async (event, { deps, log }) => {
    if (event.type !== 'greeting.created') {
      log.warn('event dropped: unknown type', { eventId: event.id, type: event.type });
      return 'DROP';
    }
    const date = event.data.at.slice(0, 10);
    const counted = await saveWithEtag<DayTally>(
      deps.dapr,
      deps.config.STATE_STORE,
      tallyKey(date),
      (current) => {
        const tally = current?.value ?? { date, count: 0, eventIds: [] };
        if (tally.eventIds.includes(event.id)) return undefined;
        return { date, count: tally.count + 1, eventIds: [...tally.eventIds, event.id] };
      },
      { metadata: () => ({ ttlInSeconds: String(TALLY_TTL_SECONDS) }) },
    );
    if (!counted) log.info('duplicate event ignored', { eventId: event.id });
    return 'SUCCESS';
  },
});
