import type { AppTable } from '../shared/app.ts';
import type { GreetingContext } from './app.ts';
import { countGreeting } from './countGreeting/index.ts';
import { dailyDigest } from './dailyDigest/index.ts';
import { followUp } from './followUp/index.ts';
import { getGreeting } from './getGreeting/index.ts';
import { greet } from './greet/index.ts';

/**
 * Which of the greetings' functions ship together: one entry is one app
 * (one Dapr app-id). A job fires only at the app that scheduled it, so
 * followUp ships with greet.
 */
export const apps = {
  'greetings-api': [greet, getGreeting, followUp],
  'greetings-events': [countGreeting, dailyDigest],
} as const satisfies AppTable<GreetingContext>;
