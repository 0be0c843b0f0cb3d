import type { SidecarReply } from './sidecar-transport.ts';

/**
 * The sidecar gateway: one method per daprd HTTP API call, typed errors, no
 * retries of its own (retry policy belongs to the caller or to Dapr's
 * Resiliency spec). Functions receive it through their dependencies, so unit
 * tests pass a fake and integration tests the real daprd.
 *
 * Its implementation on daprd's HTTP API is shared/dapr-http.ts.
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

/** A failure of the sidecar or what is behind it: a 503 for a client, a RETRY for a delivery. */
export function isSidecarFailure(error: unknown): boolean {
  return error instanceof DaprError || error instanceof SidecarUnreachableError;
}
