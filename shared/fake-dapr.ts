import {
  type CloudEventInput,
  cloudEventEnvelope,
  DaprError,
  type DaprGateway,
  EtagMismatchError,
  type InvokeResponse,
  type Job,
  JobExistsError,
  type JobSpec,
  MAX_TTL_SECONDS,
  type StateItem,
  type UpsertRequest,
} from './dapr.ts';

export interface FakePublishedEvent {
  pubsub: string;
  topic: string;
  data: unknown;
  metadata: Record<string, string>;
  /** Set when the publisher built the CloudEvent itself. */
  cloudEvent?: CloudEventInput;
  /** The structured CloudEvent the real gateway would send daprd for it (cloudEventEnvelope). */
  envelope?: Record<string, unknown>;
}

export interface FakeBindingCall {
  name: string;
  operation: string;
  data: unknown;
  metadata: Record<string, string>;
}

export type FakeInvokeHandler = (
  appId: string,
  method: string,
  init: { httpMethod: string; body?: unknown; headers: Record<string, string> },
) => Promise<InvokeResponse>;

/**
 * An in-memory stand-in for daprd, for unit tests only. It keeps the
 * semantics the functions rely on: etags change on every write, a stale etag
 * fails a save with EtagMismatchError and a transaction as a whole with
 * and `first-write` refuses an existing key.
 */
export class FakeDaprGateway implements DaprGateway {
  /** What each key holds, and the metadata of its last save (a TTL's `ttlInSeconds`: nothing expires here). */
  readonly state = new Map<string, { value: unknown; etag: string; metadata?: Record<string, string> }>();
  readonly published: FakePublishedEvent[] = [];
  readonly secrets = new Map<string, Record<string, string>>();
  readonly jobs = new Map<string, Job>();
  readonly bindingCalls: FakeBindingCall[] = [];
  /** Answers service invocation; tests point it at a test app. */
  invokeHandler: FakeInvokeHandler = async () => ({ status: 500, headers: new Headers(), body: undefined });
  outboundReady = true;
  /**
   * How a stale etag on a plain save is reported: a 409 (SQLite, PostgreSQL)
   * or, as Redis does, a 500 carrying the store's own error.
   */
  staleEtagAs: 'conflict' | 'store-error' = 'conflict';
  #etag = 0;
  #failures: Array<{ method: keyof DaprGateway; error: Error }> = [];

  /** Keys whose next save is applied and then answered with an error, as when the store dies before it answers. */
  readonly #lostAnswers = new Set<string>();

  /** The next save of `key` is applied, then fails as if the store's answer was lost. */
  loseAnswerOfNextSave(key: string): void {
    this.#lostAnswers.add(key);
  }

  /** The next call of `method` throws `error` instead of running. */
  failNext(method: keyof DaprGateway, error: Error): void {
    this.#failures.push({ method, error });
  }

  /** How often each method was called, for tests that bound a function's cost. */
  readonly calls = new Map<keyof DaprGateway, number>();
  /** The keys getBulkState was asked for, over all calls. */
  bulkKeysRead = 0;

  #maybeFail(method: keyof DaprGateway) {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const index = this.#failures.findIndex((f) => f.method === method);
    if (index >= 0) {
      const [failure] = this.#failures.splice(index, 1);
      throw failure?.error;
    }
  }

  #nextEtag() {
    this.#etag += 1;
    return String(this.#etag);
  }

  async getState<T>(_store: string, key: string): Promise<StateItem<T> | undefined> {
    this.#maybeFail('getState');
    const item = this.state.get(key);
    return item && { key, value: structuredClone(item.value) as T, etag: item.etag };
  }

  async getBulkState<T>(_store: string, keys: readonly string[]): Promise<Map<string, StateItem<T>>> {
    this.#maybeFail('getBulkState');
    this.bulkKeysRead += keys.length;
    const found = new Map<string, StateItem<T>>();
    for (const key of keys) {
      const item = this.state.get(key);
      if (item) found.set(key, { key, value: structuredClone(item.value) as T, etag: item.etag });
    }
    return found;
  }

  #checkEtag(request: { key: string; etag?: string | undefined }, firstWrite: boolean): boolean {
    const current = this.state.get(request.key);
    if (request.etag !== undefined) return current?.etag === request.etag;
    return !(firstWrite && current);
  }

  async saveState(_store: string, items: readonly UpsertRequest[]): Promise<void> {
    this.#maybeFail('saveState');
    for (const item of items) {
      const ttl = item.metadata?.ttlInSeconds;
      // daprd parses the TTL as a 32-bit count of seconds, -1 meaning none, and refuses the request otherwise.
      if (ttl !== undefined && !(/^-?\d+$/.test(ttl) && Number(ttl) >= -1 && Number(ttl) <= MAX_TTL_SECONDS))
        throw new DaprError(
          400,
          'ERR_STATE_SAVE',
          "error parsing TTL: incorrect value for metadata 'ttlInSeconds': must be -1 or greater",
        );
      if (!this.#checkEtag(item, item.options?.concurrency === 'first-write')) {
        if (this.staleEtagAs === 'store-error')
          throw new DaprError(500, 'ERR_STATE_SAVE', `failed to set key ${item.key}: ERR user_script:14`);
        throw new EtagMismatchError('ERR_STATE_SAVE', `possible etag mismatch on ${item.key}`);
      }
      this.state.set(item.key, {
        value: structuredClone(item.value),
        etag: this.#nextEtag(),
        ...(item.metadata ? { metadata: { ...item.metadata } } : {}),
      });
      if (this.#lostAnswers.delete(item.key))
        throw new DaprError(500, 'ERR_STATE_SAVE', 'read: connection reset by peer');
    }
  }

  async deleteState(_store: string, key: string, options: { etag?: string } = {}): Promise<void> {
    this.#maybeFail('deleteState');
    if (options.etag !== undefined && this.state.get(key)?.etag !== options.etag)
      throw new EtagMismatchError('ERR_STATE_DELETE', `possible etag mismatch on ${key}`);
    this.state.delete(key);
  }

  async publishEvent(
    pubsub: string,
    topic: string,
    data: unknown,
    options: { metadata?: Record<string, string> } = {},
  ) {
    this.#maybeFail('publishEvent');
    this.published.push({ pubsub, topic, data: structuredClone(data), metadata: { ...options.metadata } });
  }

  async publishCloudEvent(
    pubsub: string,
    topic: string,
    event: CloudEventInput,
    options: { metadata?: Record<string, string> } = {},
  ) {
    this.#maybeFail('publishCloudEvent');
    this.published.push({
      pubsub,
      topic,
      data: structuredClone(event.data),
      metadata: { ...options.metadata },
      cloudEvent: structuredClone(event),
      envelope: structuredClone(cloudEventEnvelope(event)),
    });
  }

  async scheduleJob(name: string, spec: JobSpec, options: { overwrite?: boolean } = {}) {
    this.#maybeFail('scheduleJob');
    if (this.jobs.has(name) && !options.overwrite) throw new JobExistsError(`job already exists: ${name}`);
    this.jobs.set(name, { name, ...structuredClone(spec) });
  }

  async getJob(name: string): Promise<Job | undefined> {
    this.#maybeFail('getJob');
    const job = this.jobs.get(name);
    return job && structuredClone(job);
  }

  async deleteJob(name: string) {
    this.#maybeFail('deleteJob');
    this.jobs.delete(name);
  }

  async invokeMethod(
    appId: string,
    method: string,
    init: { httpMethod?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<InvokeResponse> {
    this.#maybeFail('invokeMethod');
    return this.invokeHandler(appId, method, {
      httpMethod: init.httpMethod ?? 'GET',
      body: init.body,
      headers: init.headers ?? {},
    });
  }

  async invokeBinding(name: string, operation: string, data: unknown, metadata: Record<string, string> = {}) {
    this.#maybeFail('invokeBinding');
    this.bindingCalls.push({ name, operation, data: structuredClone(data), metadata: { ...metadata } });
  }

  async getSecret(store: string, key: string): Promise<Record<string, string>> {
    this.#maybeFail('getSecret');
    const secret = this.secrets.get(`${store}/${key}`);
    if (!secret) throw new Error(`fake secret store has no ${store}/${key}`);
    return { ...secret };
  }

  async isOutboundReady(): Promise<boolean> {
    return this.outboundReady;
  }
}
