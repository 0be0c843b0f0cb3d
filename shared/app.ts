import type { EventTopic } from './asyncapi.ts';
import type { Env, RuntimeSetting } from './config.ts';
import type { FunctionDefinition, RuntimeDeps } from './function.ts';

/** What the runtime hands an app's `context` factory. */
export interface RuntimeParts extends RuntimeDeps {
  /** The bearer token clients send to the HTTP functions, once loaded from the secret store. */
  apiToken: () => string | undefined;
  /** The environment the process started with, for the app's own settings (loadSettings). */
  env: Env;
}

/**
 * An app on the runtime: its own context, built once per process, and the
 * few things the runtime asks of it. Its functions see `Deps<C>`: the
 * runtime's parts and `C` in one object (make their `defineFunction` with
 * `functionsFor<C>()`).
 */
export interface AppDefinition<C extends object> {
  /** The API document's title and description (`/openapi.json`, `/docs`). */
  title: string;
  description: string;
  version: string;
  /**
   * The topics the app's code publishes to: each CloudEvent type, its data
   * schema and the functions that publish it (`/asyncapi.json`; what the app
   * receives comes from its topic functions).
   */
  events?: readonly EventTopic[];
  /** Runtime settings whose defaults this app chooses; the environment still wins. */
  defaults?: Partial<Record<RuntimeSetting, string>>;
  /** Builds the app's context from the runtime's parts; validates the app's own settings from `env`. */
  context: (runtime: RuntimeParts) => C;
  /**
   * Resolves when the work the app's functions left running after their
   * answers is done (events being published, say): the process waits for it
   * before it exits on SIGTERM, and the testing helper before a test looks.
   */
  settled?: (context: C) => Promise<void>;
  /**
   * The span attribute naming what an invocation is about (`order.id`, say): the
   * HTTP route's `id` parameter or the last segment of a 201's Location, a
   * CloudEvent's `subject`, a job trigger's `subject`. Unset: none is recorded.
   */
  subjectAttribute?: string;
  /** Exports the app's own counters at 0 before the first invocation (see telemetry.ts, zeroCounters). */
  zeroCounters?: (functions: readonly FunctionDefinition<C>[]) => void;
}

/**
 * Which functions ship together (an apps.ts): one entry is one app, one
 * bundle, one Dapr app-id. A function may be in more than one.
 */
export type AppTable<C extends object> = Record<string, readonly FunctionDefinition<C>[]>;

/** Every function of the table once, in the order of its first entry: the embedded default (`all`). */
export function allFunctionsOf<C extends object>(apps: AppTable<C>): readonly FunctionDefinition<C>[] {
  return [...new Set(Object.values(apps).flat())];
}

/** The functions of an app, of a single function by name, or of `all`; undefined for a name that is none of these. */
export function selectFunctions<C extends object>(
  apps: AppTable<C>,
  name: string,
): readonly FunctionDefinition<C>[] | undefined {
  const all = allFunctionsOf(apps);
  if (name === 'all') return all;
  if (Object.hasOwn(apps, name)) return apps[name];
  const single = all.find((fn) => fn.name === name);
  return single && [single];
}
