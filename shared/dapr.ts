/**
 * The sidecar gateway: one method per daprd HTTP API call, typed errors, no
 * retries of its own (retry policy belongs to the caller or to Dapr's
 * Resiliency spec). Functions receive it through their dependencies, so unit
 * tests pass a fake and integration tests the real daprd.
 *
 * It talks to daprd's HTTP API with fetch rather than through the @dapr/dapr
 * client, because that client hides what these functions depend on: its
 * state `get` drops the ETag, `publish` reports failure as a return value,
 * and it has no Jobs API.
 */

export interface StateItem<T = unknown> {
  key: string;
  value: T;
  etag: string;
}

export interface UpsertRequest {
  key: string;
  value: unknown;
  etag?: string;
  metadata?: Record<string, string>;
  /** `first-write` without an etag means: only if the key does not exist yet. */
  options?: { concurrency?: 'first-write' | 'last-write' };
}

export type TransactionOperation =
  | { operation: 'upsert'; request: UpsertRequest & { contentType?: string } }
  | { operation: 'delete'; request: { key: string; etag?: string; metadata?: Record<string, string> } };

export interface PublishOptions {
  metadata?: Record<string, string>;
}

export interface DaprGateway {
  getState<T = unknown>(store: string, key: string): Promise<StateItem<T> | undefined>;
  /** Items that do not exist are absent from the returned map. */
  getBulkState<T = unknown>(store: string, keys: readonly string[]): Promise<Map<string, StateItem<T>>>;
  /** Throws EtagMismatchError when an item's etag is stale. */
  saveState(store: string, items: readonly UpsertRequest[]): Promise<void>;
  /** Throws TransactionFailedError when daprd reports the transaction failed. */
  transactState(store: string, operations: readonly TransactionOperation[]): Promise<void>;
  publishEvent(pubsub: string, topic: string, data: unknown, options?: PublishOptions): Promise<void>;
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

/**
 * A state transaction failed. daprd answers 500 ERR_STATE_TRANSACTION for any
 * cause, a stale etag included; callers tell a conflict from an outage by
 * reading the current state back.
 */
export class TransactionFailedError extends DaprError {
  constructor(message: string) {
    super(500, 'ERR_STATE_TRANSACTION', message);
    this.name = 'TransactionFailedError';
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
  fetch?: typeof fetch;
}

export function createHttpGateway(options: HttpGatewayOptions): DaprGateway {
  const { baseUrl, apiToken, timeoutMs = 5000, fetch: fetchFn = fetch } = options;

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (apiToken) headers['dapr-api-token'] = apiToken;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchFn(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new SidecarUnreachableError(`daprd did not answer ${method} ${path}`, error);
    }
    if (response.ok) return response;
    throw await toDaprError(response, `${method} ${path}`);
  }

  const stateUrl = (store: string, key?: string) =>
    `/v1.0/state/${encodeURIComponent(store)}${key === undefined ? '' : `/${encodeURIComponent(key)}`}`;

  return {
    async getState<T>(store: string, key: string) {
      const response = await call('GET', stateUrl(store, key));
      if (response.status === 204) return undefined;
      const etag = response.headers.get('etag') ?? '';
      return { key, value: (await response.json()) as T, etag };
    },

    async getBulkState<T>(store: string, keys: readonly string[]) {
      const found = new Map<string, StateItem<T>>();
      if (keys.length === 0) return found;
      const response = await call('POST', `${stateUrl(store)}/bulk`, { keys, parallelism: 16 });
      const items = (await response.json()) as Array<{
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

    async transactState(store, operations) {
      await call('POST', `${stateUrl(store)}/transaction`, { operations });
    },

    async publishEvent(pubsub, topic, data, publishOptions = {}) {
      const query = new URLSearchParams(
        Object.entries(publishOptions.metadata ?? {}).map(([k, v]): [string, string] => [`metadata.${k}`, v]),
      ).toString();
      const path = `/v1.0/publish/${encodeURIComponent(pubsub)}/${encodeURIComponent(topic)}`;
      await call('POST', query ? `${path}?${query}` : path, data);
    },

    async getSecret(store, key) {
      const response = await call(
        'GET',
        `/v1.0/secrets/${encodeURIComponent(store)}/${encodeURIComponent(key)}`,
      );
      return (await response.json()) as Record<string, string>;
    },

    async isOutboundReady() {
      try {
        const response = await call('GET', '/v1.0/healthz/outbound');
        return response.status === 204 || response.status === 200;
      } catch {
        return false;
      }
    },
  };
}

async function toDaprError(response: Response, what: string): Promise<DaprError> {
  const text = await response.text();
  let code = `HTTP_${response.status}`;
  let message = text || response.statusText;
  try {
    const body = JSON.parse(text) as { errorCode?: string; message?: string };
    code = body.errorCode ?? code;
    message = body.message ?? message;
  } catch {
    // daprd answered with a body that is not its usual JSON error; keep the text.
  }
  const full = `${what}: ${message}`;
  if (response.status === 409) return new EtagMismatchError(code, full);
  if (code === 'ERR_STATE_TRANSACTION') return new TransactionFailedError(full);
  return new DaprError(response.status, code, full);
}
