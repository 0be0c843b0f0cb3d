import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { z } from 'zod';
import type { Config } from './config.ts';
import type { DaprGateway } from './dapr.ts';
import type { Logger } from './log.ts';
import type { RemindersClient } from './reminders.ts';
import type { TaskStore } from './task-store.ts';
import type { TasksApi } from './tasks-client.ts';

/** The closed set of ways a function is triggered. */
export const triggerKinds = ['http', 'topic', 'job', 'binding'] as const;
export type TriggerKind = (typeof triggerKinds)[number];

/** What every function may use; built once per process and passed in. */
export interface Deps {
  config: Config;
  dapr: DaprGateway;
  tasks: TaskStore;
  /** The Task API through service invocation, for functions that do not own task state. */
  tasksApi: TasksApi;
  /** The reminder jobs, kept by the app that owns them (service invocation). */
  reminders: RemindersClient;
  log: Logger;
  now: () => Date;
  newId: () => string;
}

export interface AppEnv {
  Variables: { deps: Deps; log: Logger };
}

/** How an event handler's result is acknowledged to daprd. A throw means RETRY. */
export type EventStatus = 'SUCCESS' | 'RETRY' | 'DROP';

export interface EventContext {
  deps: Deps;
  log: Logger;
}

export interface HttpFunction<R extends RouteConfig = RouteConfig> {
  name: string;
  /**
   * `caller: 'daprd'` makes a route for other apps of this project only: it
   * is reached by service invocation through the sidecars (daprd's app API
   * token instead of the bearer token) and left out of the public API document.
   */
  trigger: { kind: 'http'; route: R; caller?: 'client' | 'daprd' };
  handler: RouteHandler<R, AppEnv>;
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

export interface TopicFunction<S extends z.ZodType = z.ZodType> {
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
  handler: (event: TopicEvent<z.infer<S>>, ctx: EventContext) => Promise<EventStatus | undefined>;
}

export interface JobFunction<S extends z.ZodType = z.ZodType> {
  name: string;
  /** Jobs whose name starts with `prefix` are delivered to this function. */
  trigger: { kind: 'job'; prefix: string; data: S };
  handler: (job: { name: string; data: z.infer<S> }, ctx: EventContext) => Promise<void>;
}

export interface BindingFunction<S extends z.ZodType = z.ZodType> {
  name: string;
  /** The input binding component's name; daprd calls `POST /<binding>`. */
  trigger: { kind: 'binding'; binding: string; data: S };
  handler: (input: { data: z.infer<S> }, ctx: EventContext) => Promise<void>;
}

export type FunctionDefinition =
  // biome-ignore lint/suspicious/noExplicitAny: a list holds routes of every shape
  HttpFunction<any> | TopicFunction | JobFunction | BindingFunction;

export function isHttpFunction(fn: FunctionDefinition): fn is HttpFunction {
  return fn.trigger.kind === 'http';
}

/**
 * Declares a function: a value, not a registration. Routers and bundles are
 * built from lists of these.
 *
 * @example
 * export const getTask = defineFunction({
 *   name: 'getTask',
 *   trigger: { kind: 'http', route: getTaskRoute },
 *   handler: async (c) => c.json(task, 200),
 * });
 */
export function defineFunction<R extends RouteConfig>(definition: HttpFunction<R>): HttpFunction<R>;
export function defineFunction<S extends z.ZodType>(definition: TopicFunction<S>): TopicFunction<S>;
export function defineFunction<S extends z.ZodType>(definition: JobFunction<S>): JobFunction<S>;
export function defineFunction<S extends z.ZodType>(definition: BindingFunction<S>): BindingFunction<S>;
export function defineFunction(definition: FunctionDefinition): FunctionDefinition {
  return definition;
}
