import { z } from '@hono/zod-openapi';
import type { EventTopic } from '../shared/asyncapi.ts';

/** A greeting, as the API answers it and as its `greeting.created` event carries it. */
export const Greeting = z
  .object({
    id: z.string(),
    name: z.string(),
    at: z.iso.datetime(),
  })
  .openapi('Greeting');
export type Greeting = z.infer<typeof Greeting>;

export const greetingKey = (id: string) => `greeting|${id}`;

/** greet publishes `greeting.created` here; countGreeting consumes it. */
export const GREETINGS_TOPIC = 'greetings';
export const GREETINGS_DLQ = 'greetings-dlq';

/** The topic as /asyncapi.json describes it: each type greet publishes, and its data. */
export const greetingEvents: EventTopic = {
  topic: GREETINGS_TOPIC,
  description: 'One greeting.created per greeting; countGreeting counts them.',
  messages: [
    {
      type: 'greeting.created',
      summary: 'Someone was greeted; data is the greeting.',
      dataName: 'Greeting',
      data: Greeting,
      publishers: ['greet'],
    },
  ],
};

/** greet schedules a follow-up job of this name; followUp handles every job whose name starts so. */
export const FOLLOW_UP_JOB_PREFIX = 'follow-up-';
export const followUpJobName = (greetingId: string) => `${FOLLOW_UP_JOB_PREFIX}${greetingId}`;
export const FollowUpJobData = z.object({ greetingId: z.string().min(1) });

/** One day's greetings, counted by countGreeting; `eventIds` are the events counted in it. */
export interface DayTally {
  date: string;
  count: number;
  eventIds: string[];
}
export const tallyKey = (date: string) => `greetings-day|${date}`;
