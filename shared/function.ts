import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { z } from 'zod';
import type { RuntimeConfig } from './config.ts';
import type { DaprGateway } from './dapr.ts';
import type { Logger } from './log.ts';

export { type TriggerKind, triggerKinds } from './trigger-kind.ts';

/** What the runtime gives every function of every app; built once per process. */
export interface RuntimeDeps {
  config: RuntimeConfig;
  /** The sidecar: state, pub/sub, bindings, secrets, jobs, service invocation. */
  dapr: DaprGateway;
  log: Logger;
  now: () => Date;
  newId: () => string;
}

/**
 * What a function sees: the runtime's parts and its app's own context `C`
 * (built by the app's `context` factory, see app.ts), in one object.
 */
export type Deps<C extends object = object> = RuntimeDeps & C;

export interface AppEnv<C extends object = object> {
  Variables: { deps: Deps<C>; log: Logger };
}

/** How an event handler's result is acknowledged to daprd. A throw means RETRY. */
export type EventStatus = 'SUCCESS' | 'RETRY' | 'DROP';

export interface EventContext<C extends object = object> {
  deps: Deps<C>;
  log: Logger;
}

export interface HttpFunction<R extends RouteConfig = RouteConfig, C extends object = object> {
  name: string;
  /**
   * `caller: 'daprd'` makes a route for other apps of this project only: it
   * is reached by service invocation through the sidecars (daprd's app API
   * token instead of the bearer token) and left out of the public API document.
   */
  trigger: { kind: 'http'; route: R; caller?: 'client' | 'daprd' };
  handler: RouteHandler<R, AppEnv<C>>;
}

export interface TopicEvent<T> {
  id: string;
  type: string;
  source: string;
  subject?: string | undefined;
  time?: string | undefined;
  /** The publisher's extension attributes with string values (daprd's own attributes left out). */
  extensions: Record<string, string>;
  data: T;
}

export interface TopicFunction<S extends z.ZodType = z.ZodType, C extends object = object> {
  name: string;
  trigger: {
    kind: 'topic';
    topic: string;
    /** The data schema; an event whose data does not parse is dropped to the dead-letter topic. */
    data: S;
    deadLetterTopic?: string;
    /** Bulk subscribe; unset follows the PUBSUB_BULK setting of the profile. */
    bulk?: boolean;
  };
  handler: (event: TopicEvent<z.infer<S>>, ctx: EventContext<C>) => Promise<EventStatus | undefined>;
}

export interface JobFunction<S extends z.ZodType = z.ZodType, C extends object = object> {
  name: string;
  /**
   * Jobs whose name starts with `prefix` are delivered to this function.
   * `subject`: what the job is about (its span's subject attribute, see AppDefinition).
   */
  trigger: { kind: 'job'; prefix: string; data: S; subject?: (data: z.infer<S>) => string | undefined };
  handler: (job: { name: string; data: z.infer<S> }, ctx: EventContext<C>) => Promise<void>;
}

export interface BindingFunction<S extends z.ZodType = z.ZodType, C extends object = object> {
  name: string;
  /** The input binding component's name; daprd calls `POST /<binding>`. */
  trigger: { kind: 'binding'; binding: string; data: S };
  handler: (input: { data: z.infer<S> }, ctx: EventContext<C>) => Promise<void>;
}

export type FunctionDefinition<C extends object = object> =
  // biome-ignore lint/suspicious/noExplicitAny: a list holds routes and schemas of every shape
  HttpFunction<any, C> | TopicFunction<any, C> | JobFunction<any, C> | BindingFunction<any, C>;

export function isHttpFunction<C extends object>(
  fn: FunctionDefinition<C>,
): fn is HttpFunction<RouteConfig, C> {
  return fn.trigger.kind === 'http';
}

/** `defineFunction` for the functions of an app whose context is `C`. */
export interface DefineFunction<C extends object> {
  <R extends RouteConfig>(definition: HttpFunction<R, C>): HttpFunction<R, C>;
  <S extends z.ZodType>(definition: TopicFunction<S, C>): TopicFunction<S, C>;
  <S extends z.ZodType>(definition: JobFunction<S, C>): JobFunction<S, C>;
  <S extends z.ZodType>(definition: BindingFunction<S, C>): BindingFunction<S, C>;
}

/**
 * Declares a function: a value, not a registration. Routers and bundles are
 * built from lists of these. An app with a context of its own makes its
 * `defineFunction` once, so that its handlers see that context's type:
 *
 * @example
 * export const defineFunction = functionsFor<{ orders: OrderStore }>();
 * export const getOrder = defineFunction({
 *   name: 'getOrder',
 *   trigger: { kind: 'http', route: getOrderRoute },
 *   handler: async (c) => c.json(await c.var.deps.orders.get(c.req.valid('param').id), 200),
 * });
 */
export function functionsFor<C extends object>(): DefineFunction<C> {
  function define<R extends RouteConfig>(definition: HttpFunction<R, C>): HttpFunction<R, C>;
  function define<S extends z.ZodType>(definition: TopicFunction<S, C>): TopicFunction<S, C>;
  function define<S extends z.ZodType>(definition: JobFunction<S, C>): JobFunction<S, C>;
  function define<S extends z.ZodType>(definition: BindingFunction<S, C>): BindingFunction<S, C>;
  function define(definition: FunctionDefinition<C>): FunctionDefinition<C> {
    return definition;
  }
  return define;
}

/** `defineFunction` for functions that use the runtime's parts only. */
export const defineFunction: DefineFunction<object> = functionsFor<object>();
