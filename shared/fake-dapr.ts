import {
  type DaprGateway,
  EtagMismatchError,
  type StateItem,
  TransactionFailedError,
  type TransactionOperation,
  type UpsertRequest,
} from './dapr.ts';

export interface FakePublishedEvent {
  pubsub: string;
  topic: string;
  data: unknown;
  metadata: Record<string, string>;
}

/**
 * An in-memory stand-in for daprd, for unit tests only. It keeps the
 * semantics the functions rely on: etags change on every write, a stale etag
 * fails a save with EtagMismatchError and a transaction as a whole with
 * TransactionFailedError, `first-write` refuses an existing key, and a
 * transaction on an outbox store publishes each upsert (metadata as
 * CloudEvent attributes) only when it commits.
 */
export class FakeDaprGateway implements DaprGateway {
  readonly state = new Map<string, { value: unknown; etag: string }>();
  readonly published: FakePublishedEvent[] = [];
  readonly secrets = new Map<string, Record<string, string>>();
  outboundReady = true;
  /** The outbox settings of the fake state store, as in the component YAML. */
  outbox: { pubsub: string; topic: string } | undefined = { pubsub: 'pubsub', topic: 'task-events' };
  #etag = 0;
  #failures: Array<{ method: keyof DaprGateway; error: Error }> = [];

  /** The next call of `method` throws `error` instead of running. */
  failNext(method: keyof DaprGateway, error: Error): void {
    this.#failures.push({ method, error });
  }

  #maybeFail(method: keyof DaprGateway) {
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
      if (!this.#checkEtag(item, item.options?.concurrency === 'first-write')) {
        throw new EtagMismatchError('ERR_STATE_SAVE', `possible etag mismatch on ${item.key}`);
      }
      this.state.set(item.key, { value: structuredClone(item.value), etag: this.#nextEtag() });
    }
  }

  async transactState(_store: string, operations: readonly TransactionOperation[]): Promise<void> {
    this.#maybeFail('transactState');
    for (const { request } of operations) {
      if (!this.#checkEtag(request, false)) throw new TransactionFailedError('possible etag mismatch');
    }
    for (const op of operations) {
      if (op.operation === 'delete') {
        this.state.delete(op.request.key);
        continue;
      }
      this.state.set(op.request.key, { value: structuredClone(op.request.value), etag: this.#nextEtag() });
      if (this.outbox) {
        this.published.push({
          ...this.outbox,
          data: structuredClone(op.request.value),
          metadata: { ...op.request.metadata },
        });
      }
    }
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
