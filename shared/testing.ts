import type { Config } from './config.ts';
import { configSchema } from './config.ts';
import { FakeDaprGateway } from './fake-dapr.ts';
import type { Deps, FunctionDefinition } from './function.ts';
import { silentLogger } from './log.ts';
import { createRouter } from './router.ts';
import { TaskStore } from './task-store.ts';

/** A response whose JSON body tests read without declaring its type first. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
export type TestResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export const TEST_API_TOKEN = 'test-api-token';
export const TEST_APP_TOKEN = 'test-app-token-0123456789';

/**
 * A router over the given functions with a FakeDaprGateway, for unit tests
 * through `app.request()`: no server, no sidecar.
 */
export function createTestApp(functions: readonly FunctionDefinition[], overrides: Partial<Config> = {}) {
  const dapr = new FakeDaprGateway();
  const config = { ...configSchema.parse({ APP_API_TOKEN: TEST_APP_TOKEN }), ...overrides };
  let clock = Date.parse('2026-11-27T10:00:00.000Z');
  let ids = 0;
  const deps: Deps = {
    config,
    dapr,
    tasks: new TaskStore({ dapr, store: config.STATE_STORE }),
    log: silentLogger,
    now: () => {
      clock += 1000;
      return new Date(clock);
    },
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
  };
  let apiToken: string | undefined = TEST_API_TOKEN;
  const app = createRouter({
    deps,
    functions,
    apiToken: () => apiToken,
    readiness: async () => ({ sidecar: await dapr.isOutboundReady(), apiToken: apiToken !== undefined }),
  });

  /** A request with the test bearer token; a JSON `body` object gets its content type. */
  function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${TEST_API_TOKEN}`, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': 'application/json', ...init.headers };
    }
    return raw(path, init);
  }

  /** A request exactly as given: no token, no content type. */
  function raw(path: string, init: RequestInit = {}): Promise<TestResponse> {
    return Promise.resolve(app.request(path, init)) as Promise<TestResponse>;
  }

  return {
    app,
    dapr,
    deps,
    call,
    raw,
    setApiToken: (token: string | undefined) => {
      apiToken = token;
    },
  };
}
