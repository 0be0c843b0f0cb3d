import { httpTransport, type SidecarReply, type SidecarTransport } from './sidecar-transport.ts';
import { traceHeaders } from './telemetry.ts';

/**
 * The sidecar gateway: one method per daprd HTTP API call, typed errors, no
 * retries of its own (retry policy belongs to the caller or to Dapr's
 * Resiliency spec). Functions receive it through their dependencies, so unit
 * tests pass a fake and integration tests the real daprd.
 *
 * It talks to daprd's HTTP API (shared/sidecar-transport.ts: node:http,
 * keep-alive) rather than through the @dapr/dapr client, because that client hides what these functions depend on: its
 * state `get` drops the ETag, `publish` reports failure as a return value,
 * and it has no Jobs API.
 */

export interface StateItem<T = unknown> {
  key: string;
  value: T;
  etag: string;
}

/** The largest `ttlInSeconds` daprd takes (it parses it as a 32-bit integer): about 68 years. */
export const MAX_TTL_SECONDS = 2 ** 31 - 1;

export interface UpsertRequest {
  key: string;
  value: unknown;
  etag?: string;
  metadata?: Record<string, string>;
  /** `first-write` without an etag means: only if the key does not exist yet. */
  options?: { concurrency?: 'first-write' | 'last-write' };
}

export interface PublishOptions {
  metadata?: Record<string, string>;
}

/**
 * A CloudEvent the publisher builds itself, so it chooses the `id`: a
 * deterministic id lets subscribers that dedupe by id drop a re-publish.
 * daprd keeps the given attributes and adds its own (pubsubname, topic,
 * traceparent).
 */
export interface CloudEventInput {
  id: string;
  type: string;
  source: string;
  subject?: string;
  time?: string;
  /** Extension attributes (lower-case alphanumeric names), e.g. `prevtime`. */
  extensions?: Record<string, string>;
  data: unknown;
}

/** The structured CloudEvent (JSON) sent to daprd for `event`: what subscribers receive, plus daprd's attributes. */
export function cloudEventEnvelope(event: CloudEventInput): Record<string, unknown> {
  const { extensions, ...attributes } = event;
  return { specversion: '1.0', datacontenttype: 'application/json', ...extensions, ...attributes };
}

/** How the scheduler treats a job whose trigger the app did not acknowledge. */
export type JobFailurePolicy =
  | { drop: Record<string, never> }
  | { constant: { interval: string; maxRetries?: number } };

interface JobSchedule {
  /** Cron with seconds (`0 30 * * * *`), `@every 1m`, `@daily`, ... */
  schedule?: string;
  /** RFC 3339 instant or Go duration (`10s`) of the first (or only) trigger. */
  dueTime?: string;
  /** How many times a scheduled job triggers; unset means until `ttl`. */
  repeats?: number;
  /** RFC 3339 instant or Go duration after which the job is deleted. */
  ttl?: string;
  failurePolicy?: JobFailurePolicy;
  /** JSON the app receives as the body of `POST /job/{name}`. */
  data?: unknown;
}

/** A job needs a `schedule`, a `dueTime`, or both. */
export type JobSpec = JobSchedule & ({ schedule: string } | { dueTime: string });

export interface Job extends JobSchedule {
  name: string;
}

export interface InvokeResponse {
  status: number;
  headers: SidecarReply['headers'];
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  body: unknown;
}

export interface DaprGateway {
  getState<T = unknown>(store: string, key: string): Promise<StateItem<T> | undefined>;
  /** Items that do not exist are absent from the returned map. */
  getBulkState<T = unknown>(store: string, keys: readonly string[]): Promise<Map<string, StateItem<T>>>;
  /** Throws EtagMismatchError when an item's etag is stale. */
  saveState(store: string, items: readonly UpsertRequest[]): Promise<void>;
  /**
   * Deletes a key; a key that does not exist is not an error. With `etag`,
   * only if it is still the key's: a stale one throws EtagMismatchError.
   */
  deleteState(store: string, key: string, options?: { etag?: string }): Promise<void>;
  publishEvent(pubsub: string, topic: string, data: unknown, options?: PublishOptions): Promise<void>;
  /**
   * Publishes an event whose CloudEvent attributes (the id above all) the
   * caller sets. `metadata.partitionKey` keys it (Kafka: the record key, so
   * one key's events share a partition and keep their order).
   */
  publishCloudEvent(
    pubsub: string,
    topic: string,
    event: CloudEventInput,
    options?: PublishOptions,
  ): Promise<void>;
  /**
   * Schedules a job on the Dapr Scheduler. Without `overwrite` an existing job
   * of that name makes it throw JobExistsError; with it the job is replaced.
   * A spec the scheduler refuses (a malformed dueTime, say) throws InvalidJobError.
   */
  scheduleJob(name: string, spec: JobSpec, options?: { overwrite?: boolean }): Promise<void>;
  /** The job, or undefined when there is none of that name. */
  getJob(name: string): Promise<Job | undefined>;
  /** Deletes the job; deleting a job that does not exist is not an error. */
  deleteJob(name: string): Promise<void>;
  /**
   * Service invocation: calls `method` (a path) on the app `appId` through
   * the sidecars. The callee's status comes back as it is, not as an error.
   */
  invokeMethod(
    appId: string,
    method: string,
    init?: { httpMethod?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<InvokeResponse>;
  /** Output binding: `operation` on the binding component `name`. */
  invokeBinding(
    name: string,
    operation: string,
    data: unknown,
    metadata?: Record<string, string>,
  ): Promise<void>;
  getSecret(store: string, key: string): Promise<Record<string, string>>;
  /** daprd's readiness for the app's outbound calls (`/v1.0/healthz/outbound`). */
  isOutboundReady(): Promise<boolean>;
}

/** daprd answered with an error. `code` is Dapr's errorCode, e.g. ERR_STATE_GET. */
export class DaprError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'DaprError';
    this.status = status;
    this.code = code;
  }
}

/** A save or delete carried an etag that is no longer current. */
export class EtagMismatchError extends DaprError {
  constructor(code: string, message: string) {
    super(409, code, message);
    this.name = 'EtagMismatchError';
  }
}

/** scheduleJob without overwrite found a job of that name. */
export class JobExistsError extends DaprError {
  constructor(message: string) {
    super(409, 'DAPR_SCHEDULER_SCHEDULE_JOB', message);
    this.name = 'JobExistsError';
  }
}

/** The scheduler refused the job's spec (schedule, dueTime, ttl or repeats). */
export class InvalidJobError extends DaprError {
  constructor(message: string) {
    super(400, 'DAPR_SCHEDULER_SCHEDULE_JOB', message);
    this.name = 'InvalidJobError';
  }
}

/** daprd could not be reached, or did not answer in time. */
export class SidecarUnreachableError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'SidecarUnreachableError';
  }
}

export interface HttpGatewayOptions {
  /** e.g. http://127.0.0.1:3500 */
  baseUrl: string;
  apiToken?: string | undefined;
  timeoutMs?: number;
  /** How requests reach daprd; unit tests pass a fake. */
  transport?: SidecarTransport;
}

export function createHttpGateway(options: HttpGatewayOptions): DaprGateway {
  const { baseUrl, apiToken, timeoutMs = 5000, transport = httpTransport() } = options;

  /**
   * One request to daprd, its body read to the end inside the same guard: a
   * connection cut after the headers is as much "daprd did not answer" as a
   * refused one, and never escapes untyped.
   */
  async function call(
    method: string,
    path: string,
    body?: unknown,
    extra: { headers?: Record<string, string>; passThrough?: boolean } = {},
  ): Promise<Reply> {
    // The current span's W3C context: daprd's spans for this call become its children.
    const headers: Record<string, string> = traceHeaders();
    if (body !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, extra.headers);
    if (apiToken) headers['dapr-api-token'] = apiToken;
    let reply: Reply;
    try {
      reply = await transport({
        method,
        url: `${baseUrl}${path}`,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs,
      });
    } catch (error) {
      throw new SidecarUnreachableError(`daprd did not answer ${method} ${path}`, error);
    }
    if ((reply.status >= 200 && reply.status < 300) || extra.passThrough) return reply;
    throw toDaprError(reply, `${method} ${path}`);
  }

  const publishUrl = (pubsub: string, topic: string, { metadata = {} }: PublishOptions) => {
    const path = `/v1.0/publish/${encodeURIComponent(pubsub)}/${encodeURIComponent(topic)}`;
    const query = new URLSearchParams(
      Object.entries(metadata).map(([k, v]): [string, string] => [`metadata.${k}`, v]),
    ).toString();
    return query ? `${path}?${query}` : path;
  };

  const jobUrl = (name: string) => `/v1.0/jobs/${encodeURIComponent(name)}`;

  const stateUrl = (store: string, key?: string) =>
    `/v1.0/state/${encodeURIComponent(store)}${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;

  return {
    async getState<T>(store: string, key: string) {
      const reply = await call('GET', stateUrl(store, key));
      if (reply.status === 204) return undefined;
      const etag = reply.headers.get('etag') ?? '';
      return { key, value: parseJson(reply, `GET ${stateUrl(store, key)}`) as T, etag };
    },

    async getBulkState<T>(store: string, keys: readonly string[]) {
      const found = new Map<string, StateItem<T>>();
      if (keys.length === 0) return found;
      const path = `${stateUrl(store)}/bulk`;
      const items = parseJson(await call('POST', path, { keys, parallelism: 16 }), `POST ${path}`) as Array<{
        key: string;
        data?: T;
        etag?: string;
        error?: string;
      }>;
      for (const item of items) {
        if (item.error)
          throw new DaprError(500, 'ERR_STATE_BULK_GET', `bulk get of ${item.key}: ${item.error}`);
        if (item.data !== undefined)
          found.set(item.key, { key: item.key, value: item.data, etag: item.etag ?? '' });
      }
      return found;
    },

    async saveState(store, items) {
      await call('POST', stateUrl(store), items);
    },

    async deleteState(store, key, deleteOptions = {}) {
      const headers: Record<string, string> =
        deleteOptions.etag === undefined ? {} : { 'if-match': deleteOptions.etag };
      await call('DELETE', stateUrl(store, key), undefined, { headers });
    },

    async publishEvent(pubsub, topic, data, publishOptions = {}) {
      await call('POST', publishUrl(pubsub, topic, publishOptions), data);
    },

    async publishCloudEvent(pubsub, topic, event, publishOptions = {}) {
      await call('POST', publishUrl(pubsub, topic, publishOptions), cloudEventEnvelope(event), {
        headers: { 'content-type': 'application/cloudevents+json' },
      });
    },

    async scheduleJob(name, spec, jobOptions = {}) {
      try {
        await call('POST', jobUrl(name), { ...spec, ...(jobOptions.overwrite ? { overwrite: true } : {}) });
      } catch (error) {
        // daprd answers 409 for an existing job and 500 "job failed validation" for a bad spec.
        if (error instanceof DaprError && error.status === 409) throw new JobExistsError(error.message);
        if (error instanceof DaprError && /failed validation/.test(error.message))
          throw new InvalidJobError(error.message);
        throw error;
      }
    },

    async getJob(name) {
      let reply: Reply;
      try {
        reply = await call('GET', jobUrl(name));
      } catch (error) {
        // daprd reports a missing job as a 500 carrying the scheduler's gRPC NotFound.
        if (error instanceof DaprError && /code = NotFound/.test(error.message)) return undefined;
        throw error;
      }
      const job = parseJson(reply, `GET ${jobUrl(name)}`) as Job & { data?: { value?: unknown } };
      // The data comes back wrapped as a protobuf Any: {"@type": "...Value", "value": <data>}.
      return { ...job, ...(job.data === undefined ? {} : { data: job.data.value }) };
    },

    async deleteJob(name) {
      await call('DELETE', jobUrl(name));
    },

    async invokeMethod(appId, method, init = {}) {
      const path = `/v1.0/invoke/${encodeURIComponent(appId)}/method/${method.replace(/^\/+/, '')}`;
      const reply = await call(init.httpMethod ?? 'GET', path, init.body, {
        headers: init.headers ?? {},
        passThrough: true,
      });
      let body: unknown;
      try {
        body = reply.text ? JSON.parse(reply.text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: reply.status, headers: reply.headers, body };
    },

    async invokeBinding(name, operation, data, metadata = {}) {
      await call('POST', `/v1.0/bindings/${encodeURIComponent(name)}`, { data, operation, metadata });
    },

    async getSecret(store, key) {
      const path = `/v1.0/secrets/${encodeURIComponent(store)}/${encodeURIComponent(key)}`;
      return parseJson(await call('GET', path), `GET ${path}`) as Record<string, string>;
    },

    async isOutboundReady() {
      try {
        const reply = await call('GET', '/v1.0/healthz/outbound');
        return reply.status === 204 || reply.status === 200;
      } catch {
        return false;
      }
    },
  };
}

/** daprd's answer, read to the end. */
type Reply = SidecarReply;

/** A 2xx body that should be JSON; anything else is daprd misbehaving, typed as such. */
function parseJson(reply: Reply, what: string): unknown {
  try {
    return JSON.parse(reply.text);
  } catch {
    throw new DaprError(
      502,
      'ERR_MALFORMED_REPLY',
      `${what}: daprd answered ${reply.status} with a body that is not JSON`,
    );
  }
}

function toDaprError(reply: Reply, what: string): DaprError {
  let code = `HTTP_${reply.status}`;
  let message = reply.text || `HTTP ${reply.status}`;
  try {
    const body = JSON.parse(reply.text) as { errorCode?: string; message?: string };
    code = body.errorCode ?? code;
    message = body.message ?? message;
  } catch {
    // daprd answered with a body that is not its usual JSON error; keep the text.
  }
  const full = `${what}: ${message}`;
  if (reply.status === 409) return new EtagMismatchError(code, full);
  return new DaprError(reply.status, code, full);
}

/** A failure of the sidecar or what is behind it: a 503 for a client, a RETRY for a delivery. */
export function isSidecarFailure(error: unknown): boolean {
  return error instanceof DaprError || error instanceof SidecarUnreachableError;
}
