import type { Env } from '../shared/config.ts';
import type { FakeDaprGateway } from '../shared/fake-dapr.ts';
import type { FunctionDefinition } from '../shared/function.ts';
import { createTestApp as createRuntimeTestApp } from '../shared/testing.ts';
import { type TaskContext, taskApp } from './app.ts';

export { TEST_API_TOKEN, TEST_APP_TOKEN, type TestResponse } from '../shared/testing.ts';

/** The runtime's testing helper (shared/testing.ts) over the Task API's functions. */
export const createTestApp = (functions: readonly FunctionDefinition<TaskContext>[], env: Env = {}) =>
  createRuntimeTestApp(taskApp, functions, env);

/** The records the outbox's intent index still names: those whose events may not be published yet. */
export function outboxIntents(dapr: FakeDaprGateway): string[] {
  return [...dapr.state.entries()]
    .filter(([key]) => key.startsWith('outbox-intents|'))
    .flatMap(([, item]) => Object.keys((item.value as { intents: object }).intents));
}
