import { z } from 'zod';
import type { DaprGateway } from './dapr.ts';
import { saveWithEtag } from './guarded-save.ts';
import type { Logger } from './log.ts';

export interface Intent {
  /** The record that may hold unpublished events. */
  key: string;
  /** The newest event's `seq` the record was about to hold. */
  seq: number;
  /** When the intent was written (ms). */
  at: number;
}

const Shard = z.object({ intents: z.record(z.string(), z.object({ seq: z.number(), at: z.number() })) });
type Shard = z.infer<typeof Shard>;

const shardKey = (shard: number) => `outbox-intents|${shard}`;

interface Queue {
  adds: Map<string, { seq: number; at: number; done: Array<(error?: unknown) => void> }>;
  removes: Map<string, number>;
  flushing?: Promise<void>;
}

/**
 * The outbox's recovery index: which records may hold events not yet
 * published. Dapr's state API has no range scan, so the index is a fixed
 * set of keys (`outbox-intents|0..n-1`, a record's key hashed to one) that a
 * sweep reads in one bulk get. Entries are added before the record is saved
 * and removed once its events are out, so the index holds only the writes in
 * flight and stays small.
 *
 * Writers of one process that arrive together share one save per key
 * (a group commit), so the index costs a write per batch, not per write, and
 * no one key is written by every write.
 */
export class OutboxIntents {
  readonly #dapr: DaprGateway;
  readonly #store: string;
  readonly #shards: number;
  readonly #log: Logger;
  readonly #queues = new Map<number, Queue>();

  constructor(options: { dapr: DaprGateway; store: string; shards: number; log: Logger }) {
    this.#dapr = options.dapr;
    this.#store = options.store;
    this.#shards = options.shards;
    this.#log = options.log;
  }

  /** Resolves once the intent is saved. */
  add(key: string, seq: number): Promise<void> {
    const queue = this.#queue(key);
    return new Promise<void>((resolve, reject) => {
      const entry = queue.adds.get(key);
      const done = (error?: unknown) => (error === undefined ? resolve() : reject(error));
      if (entry) {
        entry.seq = Math.max(entry.seq, seq);
        entry.done.push(done);
      } else queue.adds.set(key, { seq, at: Date.now(), done: [done] });
      this.#flush(this.#shardOf(key));
    });
  }

  /** Removes the intent of `key` unless a newer one (a higher seq) replaced it; saved with the next batch. */
  remove(key: string, seq: number): void {
    const queue = this.#queue(key);
    queue.removes.set(key, Math.max(seq, queue.removes.get(key) ?? 0));
    this.#flush(this.#shardOf(key));
  }

  /** Every intent of every shard. */
  async read(): Promise<Intent[]> {
    const keys = Array.from({ length: this.#shards }, (_, shard) => shardKey(shard));
    const found = await this.#dapr.getBulkState<Shard>(this.#store, keys);
    return [...found.values()].flatMap((item) =>
      Object.entries(Shard.parse(item.value).intents).map(([key, { seq, at }]) => ({ key, seq, at })),
    );
  }

  /** Resolves when no batch is waiting or being saved. */
  async settled(): Promise<void> {
    for (;;) {
      const flushing = [...this.#queues.values()].flatMap((q) => (q.flushing ? [q.flushing] : []));
      if (flushing.length === 0) return;
      await Promise.all(flushing);
    }
  }

  #shardOf(key: string): number {
    // FNV-1a: stable across processes and versions, unlike a runtime's own string hash.
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return (hash >>> 0) % this.#shards;
  }

  #queue(key: string): Queue {
    const shard = this.#shardOf(key);
    let queue = this.#queues.get(shard);
    if (!queue) {
      queue = { adds: new Map(), removes: new Map() };
      this.#queues.set(shard, queue);
    }
    return queue;
  }

  #flush(shard: number): void {
    const queue = this.#queues.get(shard);
    if (!queue || queue.flushing) return;
    queue.flushing = (async () => {
      while (queue.adds.size > 0 || queue.removes.size > 0) {
        const { adds, removes } = queue;
        queue.adds = new Map();
        queue.removes = new Map();
        let error: unknown;
        try {
          await saveWithEtag<Shard>(this.#dapr, this.#store, shardKey(shard), (current) => {
            const intents = { ...(current ? Shard.parse(current.value).intents : {}) };
            let changed = false;
            for (const [key, seq] of removes) {
              const intent = intents[key];
              if (intent && intent.seq <= seq) {
                delete intents[key];
                changed = true;
              }
            }
            for (const [key, { seq, at }] of adds) {
              intents[key] = { seq: Math.max(seq, intents[key]?.seq ?? 0), at };
              changed = true;
            }
            return changed ? { intents } : undefined;
          });
        } catch (failure) {
          error = failure ?? new Error('intent not saved');
          // Removals not saved are only clutter: the next sweep finds their events gone and removes them.
          if (adds.size === 0) this.#log.warn('outbox: intents not removed', { error: String(failure) });
        }
        for (const { done } of adds.values()) for (const settle of done) settle(error);
      }
      queue.flushing = undefined;
    })();
  }
}
