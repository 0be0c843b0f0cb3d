import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { admission, admissionLimits } from './admission.ts';
import type { AppDefinition } from './app.ts';
import { asyncApiDocument } from './asyncapi.ts';
import { bearerAuth, daprAppToken } from './auth.ts';
import { bodyLimit } from './body-limit.ts';
import { isSidecarFailure } from './dapr.ts';
import { docsAsset, docsAssets, docsPage, eventsPage } from './docs.ts';
import {
  type AppEnv,
  type Deps,
  type FunctionDefinition,
  type HttpFunction,
  isHttpFunction,
} from './function.ts';
import { Problem, SIDECAR_RETRY_AFTER_SECONDS, sidecarUnavailable } from './problem.ts';
import { countRequestShed, invocation, setOutcome } from './telemetry.ts';
import { isTriggerPath, mountEventTriggers } from './triggers.ts';

export interface RouterOptions<C extends object> {
  /** The app's document info and subject attribute. */
  app: Pick<AppDefinition<C>, 'title' | 'version' | 'description' | 'subjectAttribute' | 'events'>;
  deps: Deps<C>;
  functions: readonly FunctionDefinition<C>[];
  /** The bearer token clients send, once loaded from the secret store. */
  apiToken: () => string | undefined;
  /** Named readiness checks; `/readyz` is 200 only when all are true. */
  readiness: () => Promise<Record<string, boolean>>;
}

/**
 * Builds one Hono app from a list of function definitions: HTTP routes with
 * their OpenAPI document, daprd's subscription, job and binding routes,
 * health, auth, and the single error path (RFC 9457 problem details).
 */
export function createRouter<C extends object>({
  app: definition,
  deps,
  functions,
  apiToken,
  readiness,
}: RouterOptions<C>): OpenAPIHono<AppEnv<C>> {
  const app = new OpenAPIHono<AppEnv<C>>({ defaultHook: rejectInvalid });
  const subject = definition.subjectAttribute;

  app.use(async function context(c, next) {
    c.set('deps', deps);
    c.set('log', deps.log);
    await next();
  });
  // Clients' bodies are small; daprd's deliveries are not (a bulk of 100 events is
  // well over 64 KiB), and only daprd, with its token, can send them.
  const clientLimit = bodyLimit(deps.config.MAX_BODY_BYTES);
  const daprdLimit = bodyLimit(deps.config.MAX_EVENT_BODY_BYTES);
  const fromDaprd = isTriggerPath(functions);
  app.use(function bodyLimits(c, next) {
    return (fromDaprd(c.req.path) ? daprdLimit : clientLimit)(c, next);
  });
  // daprd's deliveries have their own timeouts (the Resiliency spec); clients get an answer in time.
  const clientDeadline = deadline(deps.config.REQUEST_TIMEOUT_MS);
  app.use(function requestDeadline(c, next) {
    return fromDaprd(c.req.path) ? next() : clientDeadline(c, next);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await readiness();
    const ready = Object.values(checks).every(Boolean);
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  });

  const bearer = bearerAuth(apiToken, deps.config.APP_ID);
  const onlyDaprd = daprAppToken(deps.config.APP_API_TOKEN);
  // Only clients' routes are shed: health, the documents and everything daprd calls never wait for a slot.
  const admit = admission(admissionLimits(deps.config), countRequestShed);
  for (const fn of functions.filter(isHttpFunction))
    mountHttpFunction(app, fn, fn.trigger.caller === 'daprd' ? onlyDaprd : bearer, admit, subject);
  mountEventTriggers(app, functions, deps, subject);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  const documentConfig = {
    openapi: '3.1.0',
    info: { title: definition.title, version: definition.version, description: definition.description },
  };
  app.doc31('/openapi.json', documentConfig);
  let events: ReturnType<typeof asyncApiDocument> | undefined;
  app.get('/asyncapi.json', (c) => {
    events ??= asyncApiDocument(documentConfig.info, definition.events ?? [], functions);
    return c.json(events);
  });
  app.get('/docs', (c) => c.html(docsPage(definition.title)));
  app.get('/docs/events', (c) => c.html(eventsPage(definition.title)));
  for (const name of docsAssets)
    app.get(`/docs/${name}`, async (c) => {
      const asset = await docsAsset(name).catch((error: unknown) => {
        deps.log.warn('docs asset missing', { asset: name, error: String(error) });
        throw new Problem(
          404,
          'Not Found',
          `${name} is not in this build (build.mjs puts it in docs/ beside the bundle).`,
        );
      });
      const { body, contentType } = asset;
      return c.body(new Uint8Array(body), 200, {
        'content-type': contentType,
        'cache-control': 'public, max-age=86400',
      });
    });

  const allowedMethods = methodsByPath(app);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length === 0)
      return new Problem(404, 'Not Found', `No route for ${c.req.method} ${c.req.path}.`).toResponse(
        c.req.path,
      );
    // A known path asked with a method it does not have (RFC 9110 §15.5.6): 405 and what it has.
    return new Problem(
      405,
      'Method Not Allowed',
      `${c.req.path} does not take ${c.req.method}; it takes ${allowed.join(', ')}.`,
      { headers: { allow: allowed.join(', ') } },
    ).toResponse(c.req.path);
  });
  app.onError((error, c) => {
    if (error instanceof Problem) {
      if (error.status >= 500)
        c.var.log?.warn('request failed', { path: c.req.path, status: error.status, cause: error.cause });
      return error.toResponse(c.req.path);
    }
    // Every function's calls to daprd fail the same way: the sidecar or its store is away, retry shortly.
    if (isSidecarFailure(error)) {
      c.var.log?.warn('request failed: the sidecar did not answer', { path: c.req.path, cause: error });
      return sidecarUnavailable(error).toResponse(c.req.path);
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      return new Problem(status, statusTitle(status), error.message || statusTitle(status)).toResponse(
        c.req.path,
      );
    }
    deps.log.error('unhandled error', { path: c.req.path, method: c.req.method, error });
    return new Problem(
      500,
      'Internal Server Error',
      'An unexpected error occurred; it has been logged.',
    ).toResponse(c.req.path);
  });
  return app;
}

function mountHttpFunction<C extends object>(
  app: OpenAPIHono<AppEnv<C>>,
  fn: HttpFunction<RouteConfig, C>,
  auth: MiddlewareHandler,
  admit: MiddlewareHandler,
  subject: string | undefined,
) {
  const route = fn.trigger.route;
  const internal = fn.trigger.caller === 'daprd';
  // A shed request costs no span: requests_shed_total counts it.
  const middleware: MiddlewareHandler[] = [...(internal ? [] : [admit]), traced(fn, subject), auth];
  if (route.request?.body) middleware.push(requireJson);
  app.openapi(
    {
      ...route,
      operationId: route.operationId ?? fn.name,
      ...(internal ? { hide: true } : { security: [{ bearerAuth: [] }] }),
      middleware: [...middleware, ...toArray(route.middleware)],
    },
    fn.handler,
  );
}

/**
 * The invocation's span (parent: the caller's or daprd's `traceparent`) and
 * its logger: the rest of the request, errors included, runs inside it.
 */
function traced<C extends object>(
  fn: HttpFunction<RouteConfig, C>,
  subject: string | undefined,
): MiddlewareHandler<AppEnv<C>> {
  const kind = { name: fn.name, trigger: 'http' as const };
  return async function traced(c, next) {
    const attributes = { 'http.request.method': c.req.method, 'http.route': fn.trigger.route.path };
    await invocation(kind, c.req.header(), attributes, async (span) => {
      c.set('log', c.var.deps.log.child({ function: fn.name }));
      await next();
      const status = c.res.status;
      span.setAttribute('http.response.status_code', status);
      if (subject) {
        const id = (c.req.param() as Record<string, string>).id ?? lastSegment(c.res.headers.get('location'));
        if (id) span.setAttribute(subject, id);
      }
      setOutcome(span, status >= 500 ? 'error' : 'success', status >= 500 ? `HTTP ${status}` : undefined);
    });
  };
}

/** The last path segment of a Location (`/orders/<id>` → `<id>`). */
const lastSegment = (location: string | null) => location?.match(/^\/(?:[^/?#]+\/)*([^/?#]+)$/)?.[1];

const requireJson: MiddlewareHandler = async function requireJson(c, next) {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new Problem(
      415,
      'Unsupported Media Type',
      `Send the body as JSON with "Content-Type: application/json"${type ? ` (got "${type}")` : ''}.`,
    );
  }
  await next();
};

function rejectInvalid(result: { success: boolean; error?: ZodError; target: string }) {
  if (result.success || !result.error) return;
  const errors = result.error.issues.map((issue) => ({
    in: result.target,
    path: issue.path.join('.'),
    message: issue.message,
  }));
  const where =
    result.target === 'json' ? 'request body' : result.target === 'param' ? 'path' : result.target;
  const summary = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
  throw new Problem(400, 'Bad Request', `The ${where} is not valid: ${summary}`, { extensions: { errors } });
}

/**
 * The methods each mounted path answers, for 405's `Allow`; HEAD wherever GET
 * is (Hono answers HEAD with the GET route).
 */
function methodsByPath<C extends object>(app: OpenAPIHono<AppEnv<C>>): (path: string) => string[] {
  const routes = app.routes
    .filter((route) => route.method !== 'ALL')
    .map((route) => ({
      method: route.method,
      pattern: new RegExp(
        `^${route.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}/?$`,
      ),
    }));
  return (path) => {
    const methods = new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

function toArray<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...value] : [value as T];
}

function statusTitle(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    404: 'Not Found',
    413: 'Content Too Large',
  };
  return titles[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/**
 * Answers 503 with Retry-After when the request is not done within `ms`. The
 * work goes on behind the answer: a write answered so may still happen, as
 * with any 503 from the sidecar, and its event exists exactly when it does.
 */
function deadline(ms: number) {
  return async function withDeadline(_c: unknown, next: () => Promise<void>) {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Problem(
              503,
              'Service Unavailable',
              `The request took longer than ${ms} ms (the sidecar or its store is slow to answer); retry shortly. A write answered so may or may not have been made.`,
              { headers: { 'retry-after': String(SIDECAR_RETRY_AFTER_SECONDS) } },
            ),
          ),
        ms,
      );
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
