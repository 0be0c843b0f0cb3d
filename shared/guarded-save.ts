import {
  DaprError,
  type DaprGateway,
  EtagMismatchError,
  type StateItem,
  type UpsertRequest,
} from './dapr.ts';

/** Jittered exponential backoff for optimistic-concurrency retries: 2 ms up to ~200 ms. */
export function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 2 ** Math.min(attempt, 8));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/**
 * Saves one item guarded by its etag (or by first-write when it has none).
 * Returns false when another writer changed the key first, however the store
 * reports it: daprd answers 409 for SQLite and PostgreSQL, but a 500 carrying
 * the store's own error for Redis; the key's current etag tells a conflict
 * from an outage. Other failures throw.
 */
export async function trySave(dapr: DaprGateway, store: string, item: UpsertRequest): Promise<boolean> {
  try {
    await dapr.saveState(store, [item]);
    return true;
  } catch (error) {
    if (error instanceof EtagMismatchError) return false;
    if (!(error instanceof DaprError)) throw error;
    const now = await dapr.getState(store, item.key);
    if (item.etag === undefined ? now !== undefined : now?.etag !== item.etag) return false;
    throw error;
  }
}

/**
 * Read-modify-write of one state key, guarded by its etag (or, for a key
 * that does not exist yet, by first-write): `change` gets the current item
 * and returns the next value, or undefined to leave it as it is. A concurrent
 * writer makes the save fail; then the key is read and `change` applied again.
 * `metadata` (e.g. ttlInSeconds) is computed from the value being saved.
 * Returns whether a value was saved.
 */
export async function saveWithEtag<T>(
  dapr: DaprGateway,
  store: string,
  key: string,
  change: (current: StateItem<T> | undefined) => Promise<T | undefined> | T | undefined,
  options: { maxAttempts?: number; metadata?: (value: T) => Record<string, string> } = {},
): Promise<boolean> {
  const { maxAttempts = 50 } = options;
  for (let attempt = 1; ; attempt++) {
    const current = await dapr.getState<T>(store, key);
    const value = await change(current);
    if (value === undefined) return false;
    const metadata = options.metadata?.(value);
    const saved = await trySave(dapr, store, {
      key,
      value,
      ...(current ? { etag: current.etag } : { options: { concurrency: 'first-write' } }),
      ...(metadata ? { metadata } : {}),
    });
    if (saved) return true;
    if (attempt >= maxAttempts)
      throw new EtagMismatchError('ERR_STATE_SAVE', `${key}: still contended after ${attempt} attempts`);
    await backoff(attempt);
  }
}
