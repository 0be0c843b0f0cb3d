import { ONCE_TTL_SECONDS, once } from '../../shared/once.ts';
import { defineFunction } from '../app.ts';
import { FOLLOW_UP_JOB_PREFIX, FollowUpJobData, type Greeting, greetingKey } from '../greetings.ts';

/**
 * Fires when a greeting's follow-up job is due (greet schedules it): sends
 * one follow-up through the notifications output binding. A job that fires
 * twice sends once: a sent-record per greeting (shared/once.ts) is written
 * after the send, and the send is itself safe to repeat (the file name comes
 * from the greeting's id). A throw makes the scheduler fire the job again,
 * by its failure policy.
 */
export const followUp = defineFunction({
  name: 'followUp',
  trigger: {
    kind: 'job',
    prefix: FOLLOW_UP_JOB_PREFIX,
    data: FollowUpJobData,
    subject: (data) => data.greetingId,
  },
  handler: async ({ data }, { deps, log }) => {
    const { dapr, config, greetingConfig } = deps;
    const stored = await dapr.getState<Greeting>(config.STATE_STORE, greetingKey(data.greetingId));
    if (!stored) {
      log.warn('follow-up for no greeting: nothing to send', { greetingId: data.greetingId });
      return;
    }
    const greeting = stored.value;
    const outcome = await once(
      dapr,
      config.STATE_STORE,
      `follow-up-sent|${greeting.id}`,
      ONCE_TTL_SECONDS,
      async () => {
        const followUp = { kind: 'greeting.follow-up', greetingId: greeting.id, name: greeting.name };
        await dapr.invokeBinding(greetingConfig.NOTIFICATIONS_BINDING, 'create', followUp, {
          fileName: `follow-up-${greeting.id}.json`,
        });
        return true;
      },
    );
    log.info(outcome === 'done' ? 'follow-up sent' : 'follow-up already sent', { greetingId: greeting.id });
  },
});
