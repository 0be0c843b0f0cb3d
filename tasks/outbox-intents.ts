import { z } from 'zod';
import type { DaprGateway } from '../shared/dapr.ts';
import { GroupCommit, shardOf } from '../shared/group-commit.ts';
import type { Logger } from '../shared/log.ts';

export interface Intent {
  /** The record that may hold unpublished events. */
  key: string;
  /** The newest event's `seq` the record was about to hold. */
  seq: number;
  /** The oldest `seq` of the record's that may not be published yet. */
  from: number;
  /** When the newest write announced itself (ms). */
  at: number;
}

const Entry = z.object({ seq: z.number(), from: z.number().default(0), at: z.number() });
const Shard = z.object({ intents: z.record(z.string(), Entry) });
type Shard = z.infer<typeof Shard>;

const shardKey = (shard: number) => `outbox-intents|${shard}`;

/**
 * The outbox's recovery index: which records may hold events not yet
 * published, and from which `seq` on. Dapr's state API has no range scan,
 * so the index is a fixed set of keys (`outbox-intents|0..n-1`, a record's
 * key hashed to one) that a sweep reads in one bulk get. An entry is added
 * before the record is saved and removed once the record's events up to its
 * `seq` are out, so the index holds only the writes in flight and stays
 * small. Writers of one process share one save per key (GroupCommit), so no
 * one key is written by every write.
 */
export class OutboxIntents {
  readonly #dapr: DaprGateway;
  readonly #store: string;
  readonly #shards: number;
  readonly #log: Logger;
  readonly #commits: GroupCommit<Shard>;

  constructor(options: { dapr: DaprGateway; store: string; shards: number; log: Logger }) {
    this.#dapr = options.dapr;
    this.#store = options.store;
    this.#shards = options.shards;
    this.#log = options.log;
    this.#commits = new GroupCommit<Shard>({
      dapr: options.dapr,
      store: options.store,
      parse: (value) => Shard.parse(value),
      empty: () => ({ intents: {} }),
    });
  }

  /**
   * Resolves once the intent is saved, with the oldest `seq` of the record
   * that may still be unpublished: `seq` itself when every earlier event is
   * known to be out (no intent of the record's was left), so the writer may
   * leave the earlier ones out of the record.
   */
  add(key: string, seq: number): Promise<number> {
    return this.#commits.apply(shardKey(shardOf(key, this.#shards)), (shard) => {
      const earlier = shard.intents[key];
      const from = earlier ? Math.min(earlier.from, seq) : seq;
      shard.intents[key] = { seq: Math.max(seq, earlier?.seq ?? 0), from, at: Date.now() };
      return from;
    });
  }

  /**
   * The record's events up to `seq` are out: its intent goes, or, when a
   * newer write announced itself, the intent's `from` moves past `seq`.
   */
  published(key: string, seq: number): void {
    this.#change(key, (shard) => {
      const intent = shard.intents[key];
      if (!intent) return;
      if (intent.seq <= seq) delete shard.intents[key];
      else intent.from = Math.max(intent.from, seq + 1);
    });
  }

  /** Drops the intent of a write that never happened (unless a newer write announced itself since). */
  abandon(key: string, seq: number): void {
    this.#change(key, (shard) => {
      if ((shard.intents[key]?.seq ?? 0) <= seq) delete shard.intents[key];
    });
  }

  /** A clean-up nobody waits for: it rides along with the shard's next save (an add) when one comes soon. */
  #change(key: string, change: (shard: Shard) => void): void {
    this.#commits
      .apply(shardKey(shardOf(key, this.#shards)), change, { lazy: true })
      // Not saved is only clutter: the next sweep finds the events out and removes the intent.
      .catch((error: unknown) => this.#log.warn('outbox: intent not updated', { key, error: String(error) }));
  }

  /** Every intent of every shard. */
  async read(): Promise<Intent[]> {
    const keys = Array.from({ length: this.#shards }, (_, shard) => shardKey(shard));
    const found = await this.#dapr.getBulkState<Shard>(this.#store, keys);
    return [...found.values()].flatMap((item) =>
      Object.entries(Shard.parse(item.value).intents).map(([key, entry]) => ({ key, ...entry })),
    );
  }

  /** Resolves when no batch is waiting or being saved. */
  settled(): Promise<void> {
    return this.#commits.settled();
  }
}
