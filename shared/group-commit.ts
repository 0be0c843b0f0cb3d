import { DaprError, type DaprGateway, type StateItem, type UpsertRequest } from './dapr.ts';
import { saveWithEtag } from './guarded-save.ts';

/**
 * A change to a key's value, made on a draft (a fresh copy per attempt, so
 * it may run again when the save meets a concurrent writer); `stored` is the
 * value as read, before `prepare`. Returns what its caller gets once the
 * save is durable.
 */
export type Change<T, R> = (draft: T, stored: T | undefined) => R;

interface Pending<T> {
  change: Change<T, unknown>;
  settle: (error: unknown, result?: unknown) => void;
}

export interface GroupCommitOptions<T> {
  dapr: DaprGateway;
  store: string;
  /** Reads a stored value; `undefined` for a key not written yet. */
  parse: (value: unknown) => T;
  empty: () => T;
  /**
   * Runs on the stored value before the batch's changes, in the same
   * etag-guarded attempt (the task index seals a full page here).
   */
  prepare?: (key: string, current: T) => Promise<T>;
  /** Attempts of the guarded save before the batch fails. */
  maxAttempts?: number;
}

/** Which of `shards` keys `key` belongs to: FNV-1a, stable across processes and versions, unlike a runtime's own string hash. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
}

/** How long a lazy change waits for a save to ride along with before it gets one of its own. */
export const LAZY_MS = 250;

/**
 * Group commit of small shared keys: the changes a process makes while a
 * save is under way are applied together in the next one, and that one
 * save covers every key they touch: one bulk read and one multi-item save
 * per batch, whatever the number of changes and keys. One batch is in
 * flight per GroupCommit, so a process never races itself. daprd saves the
 * items of a multi-item save one by one (no transaction); when that save
 * fails, each key another process wrote first is saved again on its own,
 * read afresh with the batch's changes re-applied to a fresh draft, so
 * changes must be safe to apply to a value that already holds them. A
 * caller's promise resolves once the save that holds its change is durable,
 * and rejects when that save failed.
 */
export class GroupCommit<T> {
  readonly #options: GroupCommitOptions<T>;
  /** The changes waiting for the next batch, by key, in the order they came. */
  #waiting = new Map<string, Pending<T>[]>();
  #flushing: Promise<void> | undefined;
  /** Set while only lazy changes wait: the save they get if no other change comes first. */
  #timer: NodeJS.Timeout | undefined;
  /** A change someone waits for came since the batch under way was taken: another batch follows it. */
  #due = false;

  constructor(options: GroupCommitOptions<T>) {
    this.#options = options;
  }

  /**
   * Applies `change` to `key` in the next save; resolves with its result once
   * saved. A `lazy` change (one nobody waits for, such as a clean-up) does not
   * ask for a save: it rides along with the next one, or gets its own after
   * LAZY_MS.
   */
  apply<R>(key: string, change: Change<T, R>, { lazy = false }: { lazy?: boolean } = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const settle = (error: unknown, result?: unknown) =>
        error === undefined ? resolve(result as R) : reject(error);
      const waiting = this.#waiting.get(key);
      if (waiting) waiting.push({ change, settle });
      else this.#waiting.set(key, [{ change, settle }]);
      if (lazy) this.#later();
      else this.#flush();
    });
  }

  /** Resolves when no batch is waiting or being saved (lazy changes are saved now). */
  async settled(): Promise<void> {
    if (this.#waiting.size > 0) this.#flush();
    while (this.#flushing) await this.#flushing;
  }

  /** Only lazy changes wait: they get a save of their own after LAZY_MS, unless one comes sooner. */
  #later(): void {
    if (this.#flushing || this.#timer) return;
    this.#timer = setTimeout(() => this.#flush(), LAZY_MS);
    this.#timer.unref();
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = true;
    if (this.#flushing) return;
    this.#flushing = (async () => {
      while (this.#due) {
        this.#due = false;
        const batch = this.#waiting;
        this.#waiting = new Map();
        await this.#saveBatch(batch);
      }
      this.#flushing = undefined;
      if (this.#waiting.size > 0) this.#later();
    })();
  }

  /** One bulk read and one save for every key of the batch; each key on its own when that save fails. */
  async #saveBatch(batch: Map<string, Pending<T>[]>): Promise<void> {
    const { dapr, store } = this.#options;
    const keys = [...batch.keys()];
    let found: Map<string, StateItem<unknown>>;
    try {
      found = await dapr.getBulkState(store, keys);
    } catch (error) {
      for (const pending of batch.values()) settleAll(pending, error);
      return;
    }
    const drafts: Array<{ key: string; results: unknown[]; item?: UpsertRequest }> = [];
    try {
      for (const [key, pending] of batch)
        drafts.push({ key, ...(await this.#draft(key, pending, found.get(key))) });
    } catch (error) {
      for (const pending of batch.values()) settleAll(pending, error);
      return;
    }
    const items = drafts.flatMap(({ item }) => (item ? [item] : []));
    try {
      if (items.length > 0) await dapr.saveState(store, items);
    } catch (error) {
      await this.#afterFailedSave(batch, drafts, error);
      return;
    }
    for (const { key, results } of drafts) settleWith(batch.get(key) ?? [], results);
  }

  /**
   * daprd tries every item of a multi-item save and fails the call when one
   * failed, so the keys are read again: a key whose etag moved was written
   * (by this save, or first by another process: Redis reports that as a 500)
   * and is saved again on its own; a key whose etag did not move was not
   * saved, and its changes fail with the error.
   */
  async #afterFailedSave(
    batch: Map<string, Pending<T>[]>,
    drafts: Array<{ key: string; results: unknown[]; item?: UpsertRequest }>,
    error: unknown,
  ): Promise<void> {
    const { dapr, store } = this.#options;
    let now: Map<string, StateItem<unknown>> | undefined;
    try {
      if (error instanceof DaprError)
        now = await dapr.getBulkState(
          store,
          drafts.flatMap(({ item }) => (item ? [item.key] : [])),
        );
    } catch {
      now = undefined;
    }
    await Promise.all(
      drafts.map(async ({ key, results, item }) => {
        const pending = batch.get(key) ?? [];
        if (!item) settleWith(pending, results);
        else if (now && now.get(key)?.etag !== item.etag) await this.#saveAlone(key, pending);
        else settleAll(pending, error);
      }),
    );
  }

  /** The key's value with the batch's changes applied, and the item that saves it (none when nothing changed). */
  async #draft(
    key: string,
    pending: Pending<T>[],
    current: StateItem<unknown> | undefined,
  ): Promise<{ results: unknown[]; item?: UpsertRequest }> {
    const { parse, empty, prepare } = this.#options;
    const stored = current ? parse(current.value) : undefined;
    const before = stored === undefined ? undefined : JSON.stringify(stored);
    let draft = stored === undefined ? empty() : structuredClone(stored);
    if (prepare) draft = await prepare(key, draft);
    const results = pending.map(({ change }) => change(draft, stored));
    // Nothing changed (every change was already applied): no write.
    if (JSON.stringify(draft) === before) return { results };
    const guard = current ? { etag: current.etag } : { options: { concurrency: 'first-write' as const } };
    return { results, item: { key, value: draft, ...guard } };
  }

  /** The key's changes saved by a guarded read-modify-write of that key alone. */
  async #saveAlone(key: string, pending: Pending<T>[]): Promise<void> {
    const { dapr, store, maxAttempts } = this.#options;
    let results: unknown[] = [];
    try {
      await saveWithEtag<T>(
        dapr,
        store,
        key,
        async (current) => {
          const drafted = await this.#draft(key, pending, current);
          results = drafted.results;
          return drafted.item?.value as T | undefined;
        },
        maxAttempts === undefined ? {} : { maxAttempts },
      );
    } catch (error) {
      settleAll(pending, error ?? new Error(`${key}: not saved`));
      return;
    }
    settleWith(pending, results);
  }
}

function settleWith<T>(pending: readonly Pending<T>[], results: readonly unknown[]): void {
  for (const [n, p] of pending.entries()) p.settle(undefined, results[n]);
}

function settleAll<T>(pending: readonly Pending<T>[], error: unknown): void {
  for (const p of pending) p.settle(error ?? new Error('not saved'));
}
