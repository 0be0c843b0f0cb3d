import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);

/**
 * The runtime's settings, read once from the environment and validated. An
 * app's own settings are a schema of its own (`loadSettings`), validated
 * beside these; an app may choose the defaults of some of these
 * (AppDefinition.defaults).
 */
export const runtimeConfigSchema = z.object({
  /** The Dapr app-id: the service name of spans and logs, the source of the CloudEvents it publishes. */
  APP_ID: z.string().min(1).default('app'),
  PORT: port.default(8080),
  HOST: z.string().default('127.0.0.1'),
  DAPR_HOST: z.string().default('127.0.0.1'),
  DAPR_HTTP_PORT: port.default(3500),
  /** Sent by the app to daprd (daprd's own API token), if daprd requires one. */
  DAPR_API_TOKEN: z.string().min(1).optional(),
  /** Sent by daprd to the app in `dapr-api-token`; required on daprd-only routes. */
  APP_API_TOKEN: z.string().min(16, 'APP_API_TOKEN must be at least 16 characters'),
  STATE_STORE: z.string().min(1).default('statestore'),
  PUBSUB: z.string().min(1).default('pubsub'),
  SECRET_STORE: z.string().min(1).default('secretstore'),
  /** Secret-store key that holds the bearer token clients send to the HTTP functions. */
  API_TOKEN_SECRET: z.string().min(1).default('api-token'),
  /** Bulk subscribe for topic functions that do not choose themselves; a profile switches it on. */
  PUBSUB_BULK: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /** Largest body daprd may deliver (bulk events, jobs, bindings); daprd's own default limit is 4 MiB. */
  MAX_EVENT_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(4 * 1024 * 1024),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024),
  DAPR_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /**
   * The longest a client's request may take before it is answered 503 with
   * Retry-After. A write makes several sidecar calls, each bounded by
   * DAPR_TIMEOUT_MS: behind a store that stopped answering they would add up
   * past a client's own timeout (10 s is common).
   */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(8000),
  /**
   * Client requests (the HTTP functions) that run at once; past it they wait,
   * then are shed with 503 + Retry-After (shared/admission.ts). 0 turns
   * admission control off. daprd's deliveries, health and docs are never shed.
   * Creates saturate at a few in flight (npm run bench:overload): more only
   * add latency, and a CPU-starved app whose health probe daprd gives up on.
   */
  MAX_INFLIGHT_REQUESTS: z.coerce.number().int().min(0).default(16),
  /**
   * Client requests that may wait for a slot; past it a request is shed at
   * once. With 16 running, 64 clients at once wait rather than being refused;
   * MAX_QUEUE_WAIT_MS bounds the wait, which is what sheds a real overload.
   */
  MAX_QUEUED_REQUESTS: z.coerce.number().int().min(0).default(48),
  /** How long a request waits for a slot before it is shed; keep it well under REQUEST_TIMEOUT_MS. */
  MAX_QUEUE_WAIT_MS: z.coerce.number().int().min(0).default(1000),
  /** Prometheus metrics (`GET /metrics`) on their own port, on HOST; 0 turns them off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
});

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
export type RuntimeSetting = keyof RuntimeConfig;

export type Env = Record<string, string | undefined>;

/** Settings of one part (the runtime's, or an app's) from the environment; every invalid one is named. */
export function loadSettings<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The runtime's settings; `defaults` (an app's choice) apply where the environment sets nothing. */
export function loadRuntimeConfig(
  env: Env,
  defaults: Partial<Record<RuntimeSetting, string>> = {},
): RuntimeConfig {
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
  return loadSettings(runtimeConfigSchema, { ...defaults, ...given });
}
