import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);

/** Runtime configuration, read once from the environment and validated. */
export const configSchema = z.object({
  APP_ID: z.string().min(1).default('tasks'),
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
  TASK_EVENTS_TOPIC: z.string().min(1).default('task-events'),
  /** Secret-store key that holds the Task API bearer token. */
  API_TOKEN_SECRET: z.string().min(1).default('tasks-api-token'),
  /** The app-id of the Task API, for functions that read tasks by service invocation; defaults to APP_ID. */
  TASKS_API_APP_ID: z.string().min(1).optional(),
  /** The app-id of task-reminders, which owns the reminder jobs; defaults to APP_ID. */
  REMINDERS_APP_ID: z.string().min(1).optional(),
  /** Output binding that delivers notifications (`create`: a file for localstorage, a POST for http). */
  NOTIFICATIONS_BINDING: z.string().min(1).default('notifications'),
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
  /** Client requests that may wait for a slot; past it a request is shed at once. */
  MAX_QUEUED_REQUESTS: z.coerce.number().int().min(0).default(16),
  /** How long a request waits for a slot before it is shed; keep it well under REQUEST_TIMEOUT_MS. */
  MAX_QUEUE_WAIT_MS: z.coerce.number().int().min(0).default(1000),
  /** Prometheus metrics (`GET /metrics`) on their own port, on HOST; 0 turns them off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
});

export type Config = z.infer<typeof configSchema>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
