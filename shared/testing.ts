import type { AppDefinition } from './app.ts';
import { type Env, loadRuntimeConfig } from './config.ts';
import { FakeDaprGateway } from './fake-dapr.ts';
import type { Deps, FunctionDefinition, RuntimeDeps } from './function.ts';
import { silentLogger } from './log.ts';
import { createRouter } from './router.ts';

/** A response whose JSON body tests read without declaring its type first. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
export type TestResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export const TEST_API_TOKEN = 'test-api-token';
export const TEST_APP_TOKEN = 'test-app-token-0123456789';

/**
 * A router over the given functions of `app` with a FakeDaprGateway, for
 * unit tests through `app.request()`: no server, no sidecar. `env` sets
 * settings, the runtime's and the app's, as the environment would.
 */
export function createTestApp<C extends object>(
  definition: AppDefinition<C>,
  functions: readonly FunctionDefinition<C>[],
  env: Env = {},
) {
  const dapr = new FakeDaprGateway();
  const allEnv = { APP_API_TOKEN: TEST_APP_TOKEN, ...env };
  const config = loadRuntimeConfig(allEnv, definition.defaults);
  let clock = Date.parse('2026-11-27T10:00:00.000Z');
  let ids = 0;
  let apiToken: string | undefined = TEST_API_TOKEN;
  const runtime: RuntimeDeps = {
    config,
    dapr,
    log: silentLogger,
    now: () => {
      clock += 1000;
      return new Date(clock);
    },
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
  };
  const context = definition.context({ ...runtime, apiToken: () => apiToken, env: allEnv });
  const deps: Deps<C> = { ...context, ...runtime };
  const app = createRouter({
    app: definition,
    deps,
    functions,
    apiToken: () => apiToken,
    readiness: async () => ({ sidecar: await dapr.isOutboundReady(), apiToken: apiToken !== undefined }),
  });

  // Service invocation reaches this same app, as in the embedded default; the
  // callee's daprd adds the app API token, as the real one does.
  dapr.invokeHandler = async (_appId, method, init) => {
    const response = await app.request(`/${method}`, {
      method: init.httpMethod,
      headers: {
        ...init.headers,
        'dapr-api-token': TEST_APP_TOKEN,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };

  /** A request with the test bearer token; a JSON `body` object gets its content type. */
  function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${TEST_API_TOKEN}`, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': 'application/json', ...init.headers };
    }
    return raw(path, init);
  }

  /**
   * A request exactly as given: no token, no content type. It resolves once
   * the events of the writes it made are published too (they go out after
   * the response), so a test sees them in `dapr.published`.
   */
  async function raw(path: string, init: RequestInit = {}): Promise<TestResponse> {
    const response = await app.request(path, init);
    await definition.settled?.(context);
    return response as TestResponse;
  }

  /** A POST as daprd makes it to the app (app API token, JSON body): deliveries, jobs, bindings. */
  function fromDaprd(
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<TestResponse> {
    return raw(path, {
      method: 'POST',
      headers: { 'dapr-api-token': TEST_APP_TOKEN, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  return {
    app,
    dapr,
    deps,
    call,
    raw,
    fromDaprd,
    /** The fake clock (it moves 1 s on every read): set it, or move it on. */
    setNow: (instant: string) => {
      clock = Date.parse(instant);
    },
    advance: (ms: number) => {
      clock += ms;
    },
    setApiToken: (token: string | undefined) => {
      apiToken = token;
    },
  };
}
