import {
  cloudEventEnvelope,
  DaprError,
  type DaprGateway,
  EtagMismatchError,
  InvalidJobError,
  type Job,
  JobExistsError,
  type PublishOptions,
  SidecarUnreachableError,
  type StateItem,
} from './dapr.ts';
import { httpTransport, type SidecarReply, type SidecarTransport } from './sidecar-transport.ts';
import { traceHeaders } from './telemetry.ts';

/**
 * The sidecar gateway (shared/dapr.ts) on daprd's HTTP API
 * (shared/sidecar-transport.ts: node:http, keep-alive) rather than through
 * the @dapr/dapr client, because that client hides what these functions
 * depend on: its state `get` drops the ETag, `publish` reports failure as a
 * return value, and it has no Jobs API.
 */

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
