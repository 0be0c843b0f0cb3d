import { z } from '@hono/zod-openapi';
import type { AppDefinition } from '../shared/app.ts';
import { loadSettings } from '../shared/config.ts';
import { functionsFor } from '../shared/function.ts';
import { greetingEvents } from './greetings.ts';

/** The app's own settings, read from the environment beside the runtime's. */
const GreetingConfig = z.object({
  /** The output binding follow-ups go out through. */
  NOTIFICATIONS_BINDING: z.string().min(1).default('notifications'),
});

/** What the greetings' functions see beside the runtime's parts (`Deps<GreetingContext>`). */
export interface GreetingContext {
  greetingConfig: z.infer<typeof GreetingConfig>;
}

/** `defineFunction` for the greetings' functions: their handlers see `Deps<GreetingContext>`. */
export const defineFunction = functionsFor<GreetingContext>();

/** A tiny app on the runtime: greetings saved, counted per day, followed up, digested. */
export const greetingApp: AppDefinition<GreetingContext> = {
  title: 'Greetings',
  version: '0.1.0',
  description: 'An example app on the runtime (docs/FUNCTIONS.md). Errors are RFC 9457 problem details.',
  defaults: { APP_ID: 'greetings' },
  context: ({ env }) => ({ greetingConfig: loadSettings(GreetingConfig, env) }),
  // What the app publishes, for /asyncapi.json; what it receives comes from its topic functions.
  events: [greetingEvents],
  subjectAttribute: 'greeting.id',
};
