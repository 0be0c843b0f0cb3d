import type { DaprGateway } from './dapr.ts';
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
   * etag-guarded attempt (e.g. an index that seals a full page).
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

/**
 * Group commit of small shared keys: the changes a process makes to one key
 * while a save of that key is under way are applied together in its next
 * save (one read and one etag-guarded write per batch, not per change). One
 * save per key is in flight per process, so a process never races itself;
 * other processes make the etag guard retry, which re-applies every change
 * of the batch to a fresh draft. A caller's promise resolves once the save
 * that holds its change is durable, and rejects when that save failed.
 */
/** How long a lazy change waits for a save of its key to ride along with before it gets one of its own. */
export const LAZY_MS = 250;

interface Queue<T> {
  waiting: Pending<T>[];
  flushing?: Promise<void> | undefined;
  /** Set while only lazy changes wait: the save they get if no other change comes first. */
  timer?: NodeJS.Timeout | undefined;
}

export class GroupCommit<T> {
  readonly #options: GroupCommitOptions<T>;
  readonly #queues = new Map<string, Queue<T>>();

  constructor(options: GroupCommitOptions<T>) {
    this.#options = options;
  }

  /**
   * Applies `change` to `key` in the next save; resolves with its result once
   * saved. A `lazy` change (one nobody waits for, such as a clean-up) does not
   * ask for a save: it rides along with the next one of its key, or gets its
   * own after LAZY_MS.
   */
  apply<R>(key: string, change: Change<T, R>, { lazy = false }: { lazy?: boolean } = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const settle = (error: unknown, result?: unknown) =>
        error === undefined ? resolve(result as R) : reject(error);
      const queue = this.#queue(key);
      queue.waiting.push({ change, settle });
      if (!lazy) this.#flush(key);
      else if (!queue.flushing && !queue.timer) {
        queue.timer = setTimeout(() => this.#flush(key), LAZY_MS);
        queue.timer.unref();
      }
    });
  }

  /** Resolves when no batch is waiting or being saved (lazy changes are saved now). */
  async settled(): Promise<void> {
    for (const [key, queue] of this.#queues) if (queue.timer) this.#flush(key);
    for (;;) {
      const flushing = [...this.#queues.values()].flatMap((q) => (q.flushing ? [q.flushing] : []));
      if (flushing.length === 0) return;
      await Promise.all(flushing);
    }
  }

  #queue(key: string) {
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = { waiting: [] };
      this.#queues.set(key, queue);
    }
    return queue;
  }

  #flush(key: string): void {
    const queue = this.#queue(key);
    clearTimeout(queue.timer);
    queue.timer = undefined;
    if (queue.flushing) return;
    queue.flushing = (async () => {
      while (queue.waiting.length > 0) {
        const batch = queue.waiting;
        queue.waiting = [];
        let results: unknown[] = [];
        let error: unknown;
        try {
          await this.#save(key, batch, (outcome) => {
            results = outcome;
          });
        } catch (failure) {
          error = failure ?? new Error(`${key}: not saved`);
        }
        for (const [n, pending] of batch.entries()) pending.settle(error, results[n]);
      }
      queue.flushing = undefined;
      this.#queues.delete(key);
    })();
  }

  async #save(key: string, batch: Pending<T>[], done: (results: unknown[]) => void): Promise<void> {
    const { dapr, store, parse, empty, prepare, maxAttempts } = this.#options;
    await saveWithEtag<T>(
      dapr,
      store,
      key,
      async (current) => {
        const stored = current ? parse(current.value) : undefined;
        const before = stored === undefined ? undefined : JSON.stringify(stored);
        let draft = stored === undefined ? empty() : structuredClone(stored);
        if (prepare) draft = await prepare(key, draft);
        done(batch.map(({ change }) => change(draft, stored)));
        // Nothing changed (every change was already applied): no write.
        return JSON.stringify(draft) === before ? undefined : draft;
      },
      maxAttempts === undefined ? {} : { maxAttempts },
    );
  }
}
